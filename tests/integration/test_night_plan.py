"""What a night has to do, decided from file stats and small state files (issue 16;
orchestration/lib/night.py): an unchanged partition is skipped without opening a file, a
touched one is hashed again, and the dbt selection follows what was loaded, what changed in
the project and what failed last time."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest

import schemas
from orchestration.lib import ingest, night
from orchestration.lib.ingest import audit_dir
from orchestration.lib.settings import load_settings

SPEC = schemas.EXTRACTS["gp_emis_appointments"]
HEADER = "Appointment ID,Practice Code,NHS Number,Appointment Date,Status,Mode,Clinician Type,National Category\n"
DAY = dt.date(2024, 2, 1)


def land(data: Path, day: dt.date = DAY, practice: str = "Z00001") -> Path:
    folder = data / "landing" / "gp_emis" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{practice}_Appointments_{day:%Y%m%d}.csv"
    path.write_text(HEADER + f"A-{day},{practice},9434765919,03/01/2024,Attended,Telephone,GP,\n")
    old = time.time() - 3600
    os.utime(path, (old, old))
    return path


def test_an_unchanged_partition_is_skipped_without_reading_a_file(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = land(data_dir)
    settings = load_settings()
    (first,) = ingest.ingest_files(settings, SPEC, [DAY], "run-one")
    assert not first.skipped
    assert night.changed_dates(settings) == []

    def no_reading(*args: object) -> None:
        raise AssertionError("an unchanged partition was read")

    monkeypatch.setattr(ingest.partition, "read_landed_files", no_reading)
    (again,) = ingest.ingest_files(settings, SPEC, [DAY], "run-two")
    assert again.skipped and again.files == 1
    monkeypatch.undo()

    # Touched (same content, new mtime): read and hashed again, skipped by sha256, re-stamped.
    os.utime(path, None)
    assert night.changed_dates(settings) == [DAY]
    (touched,) = ingest.ingest_files(settings, SPEC, [DAY], "run-three")
    assert touched.skipped
    assert night.changed_dates(settings) == []

    # The load's audit deleted (the runbook's forced reload): read again.
    for audit in (audit_dir(settings, SPEC.table)).rglob("*.parquet"):
        audit.unlink()
    assert night.changed_dates(settings) == [DAY]


MANIFEST = {
    "sources": {
        "source.p.gp_emis.gp_emis_appointments": {
            "source_name": "gp_emis",
            "name": "gp_emis_appointments",
            "config": {"meta": {"dagster": {"asset_key": ["raw", "gp_emis_appointments"]}}},
        },
        "source.p.workforce.workforce_pcn_individual": {
            "source_name": "workforce",
            "name": "workforce_pcn_individual",
            "config": {"meta": {"dagster": {"asset_key": ["raw", "workforce_pcn_individual"]}}},
        },
        "source.p.audit.loads": {
            "source_name": "audit",
            "name": "loads",
            "config": {"meta": {"dagster": {"asset_key": ["audit", "loads"]}}},
        },
    }
}


def test_the_dbt_selection_follows_loads_code_changes_and_failures(data_dir: Path) -> None:
    settings = load_settings()
    land(data_dir)
    ingest.ingest_files(settings, SPEC, [DAY], "run-one")
    plan = night.dbt_plan(MANIFEST, settings)
    assert plan.full and plan.reasons == ["no earlier build to compare with"]
    target = data_dir / "target"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps({"nodes": {}}))
    results = {"metadata": {}, "results": [{"unique_id": "model.p.m", "status": "success"}]}
    (target / "run_results.json").write_text(json.dumps(results))
    night.record_build(settings, plan, target, "run-one")
    assert night.dbt_plan(MANIFEST, settings).nothing, "everything loaded is built"

    land(data_dir, dt.date(2024, 3, 1))
    ingest.ingest_files(settings, SPEC, [dt.date(2024, 3, 1)], "run-two")
    plan = night.dbt_plan(MANIFEST, settings)
    assert plan.select == ["source:audit.loads+", "source:gp_emis.gp_emis_appointments+"]
    assert not plan.full and plan.state == data_dir / "state" / "dbt"

    failed = {"metadata": {}, "results": [{"unique_id": "test.p.t", "status": "fail"}]}
    (target / "run_results.json").write_text(json.dumps(failed))
    night.record_build(settings, plan, target, "run-two")
    plan = night.dbt_plan(MANIFEST, settings)
    assert plan.select == ["result:fail+"], "a failure is retried until it passes"
    merged = json.loads((data_dir / "state" / "dbt" / "run_results.json").read_text())
    assert {r["unique_id"] for r in merged["results"]} == {"model.p.m", "test.p.t"}

    build = json.loads((data_dir / "state" / "dbt" / "build.json").read_text())
    (data_dir / "state" / "dbt" / "build.json").write_text(
        json.dumps({**build, "project_hash": "an older project"})
    )
    assert "state:modified+" in night.dbt_plan(MANIFEST, settings).select
    assert night.dbt_plan(MANIFEST, settings, full_requested=True).full


def test_a_project_change_that_selects_nothing_is_recorded_so_the_next_night_is_quiet(
    data_dir: Path,
) -> None:
    # A description edited in a .yml changes the project but no node: `dbt build --select
    # state:modified+` then runs nothing ("Nothing to do") and writes empty results. That is a
    # build all the same; were it not recorded, every later night would plan it again.
    settings = load_settings()
    target = data_dir / "target"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps({"nodes": {}}))
    (target / "run_results.json").write_text(json.dumps({"metadata": {}, "results": []}))
    night.record_build(settings, night.DbtPlan(select=["state:modified+"]), target, "run-one")
    build = json.loads((data_dir / "state" / "dbt" / "build.json").read_text())
    assert build["project_hash"] == night.project_hash()
    assert night.dbt_plan(MANIFEST, settings).nothing

    # dbt failed before running a node (a compile error), with or without writing results:
    # nothing is recorded, so the next night tries again.
    (data_dir / "state" / "dbt" / "build.json").unlink()
    plan = night.DbtPlan(select=["state:modified+"])
    night.record_build(settings, plan, target, "run-two", succeeded=False)
    (target / "run_results.json").unlink()
    night.record_build(settings, plan, target, "run-three")
    assert not (data_dir / "state" / "dbt" / "build.json").exists()


def test_publishers_keep_their_own_list_of_rebuilt_marts(data_dir: Path) -> None:
    settings = load_settings()
    assert night.unpublished(settings, "duckdb") is None, "no record: publish everything"
    night.published(settings, "duckdb")
    night.published(settings, "parquet")
    assert not night.anything_unpublished(settings)
    night.add_unpublished(settings, ["pub_workforce_pcn_month"])
    assert night.unpublished(settings, "duckdb") == {"pub_workforce_pcn_month"}
    night.published(settings, "duckdb", {"pub_workforce_pcn_month"})
    assert night.unpublished(settings, "duckdb") == set()
    assert night.unpublished(settings, "parquet") == {"pub_workforce_pcn_month"}
    assert night.anything_unpublished(settings)
    assert night.unpublished(settings, "postgres") is None, "not configured: everything once set"

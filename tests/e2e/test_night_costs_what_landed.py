"""A night costs what landed (issue 16).

On a copy of the session's tiny run (tests/conftest.py `pipeline_tiny`): the copy's first run
is a full build (its data directory is not the one last built); a second run with nothing new
runs no dbt node and rewrites no published file; a night where only a new workforce return
landed loads that one partition, builds only what depends on the workforce source (and the
audit zone it writes) and republishes; and a full build afterwards (`--full`, as
`make pipeline-full` and the Sunday schedule run it) leaves every warehouse and published table
as the selective nights left them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import duckdb
import pytest
from pipeline_runs import ROOT, run_pipeline, table_fingerprints

from orchestration.lib.warehouse.build import KEEP_NIGHTS, NIGHTS

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e

PUBLISHED = [Path("published") / "marts.duckdb", Path("published") / "internal" / "marts.duckdb"]
WORKFORCE = "source.sp_warehouse.workforce.workforce_pcn_individual"
AUDIT = ("source.sp_warehouse.audit.loads", "source.sp_warehouse.audit.quarantine")
NEW_DATE = "2025-03-31"


def downstream(manifest: dict, *starts: str) -> set[str]:
    """Names of the models and seeds downstream of ``starts`` in dbt's graph (the test's own
    walk, to check the dbt selection against)."""
    seen, todo = set(), list(starts)
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child not in seen and child.startswith(("model.", "seed.")):
                seen.add(child)
                todo.append(child)
    return {manifest["nodes"][n].get("alias") or manifest["nodes"][n]["name"] for n in seen}


def published_state(data: Path) -> dict[str, tuple[int, list[str]]]:
    """Each published file's mtime and the run ids in its `_publication` table."""
    out = {}
    for rel in PUBLISHED:
        with duckdb.connect(str(data / rel), read_only=True) as con:
            runs = [r[0] for r in con.execute("select run_id from _publication").fetchall()]
        out[str(rel)] = ((data / rel).stat().st_mtime_ns, runs)
    for link in (data / "published" / "parquet", data / "published" / "internal" / "parquet"):
        out[str(link)] = (link.lstat().st_mtime_ns, [str(link.readlink())])
    return out


def materialised(home: Path, run_id: str) -> list[tuple[list[str], str | None]]:
    """(asset key path, partition) of every materialisation in one run."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        return [
            (
                r.event_log_entry.dagster_event.asset_key.path,
                r.event_log_entry.dagster_event.partition,
            )
            for r in records
        ]


def run_ids(home: Path) -> list[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return [r.run_id for r in instance.get_runs()]


def land_workforce_month(data: Path) -> None:
    """March's workforce return: February's staff, census month 3."""
    landing = data / "landing" / "workforce"
    feb = landing / "2025-02-28" / "pcn_workforce_individual_level_feb2025.csv"
    target = landing / NEW_DATE / "pcn_workforce_individual_level_mar2025.csv"
    target.parent.mkdir()
    target.write_bytes(feb.read_bytes().replace(b",2025,2,", b",2025,3,"))


@pytest.fixture(scope="module")
def nights(pipeline_tiny: PipelineRun, tmp_path_factory: pytest.TempPathFactory) -> dict:
    assert pipeline_tiny.returncode == 0, pipeline_tiny.output[-4000:]
    where = tmp_path_factory.mktemp("nights")
    data, home = where / "data", where / "dagster_home"
    shutil.copytree(pipeline_tiny.data, data, symlinks=True)
    first = run_pipeline(data, home)
    assert first.returncode == 0, first.output[-4000:]
    before_quiet = (published_state(data), data.joinpath("warehouse.duckdb").stat().st_mtime_ns)
    runs_before_quiet = run_ids(home)
    quiet = run_pipeline(data, home)
    after_quiet = (published_state(data), data.joinpath("warehouse.duckdb").stat().st_mtime_ns)
    runs_after_quiet = run_ids(home)
    land_workforce_month(data)
    workforce = run_pipeline(data, home)
    assert workforce.returncode == 0, workforce.output[-4000:]
    night_runs = [r for r in run_ids(home) if r not in runs_after_quiet]
    incremental = {
        rel: table_fingerprints(data / rel) for rel in [Path("warehouse.duckdb"), *PUBLISHED]
    }
    return {
        "data": data,
        "home": home,
        "first": first,
        "quiet": quiet,
        "quiet_state": (before_quiet, after_quiet),
        "quiet_runs": (runs_before_quiet, runs_after_quiet),
        "workforce": workforce,
        "workforce_runs": night_runs,
        "incremental": incremental,
    }


def test_a_copied_data_directory_is_built_in_full_first(nights: dict) -> None:
    assert "full dbt build: the data directory changed" in nights["first"].output


def test_a_quiet_night_builds_and_publishes_nothing(nights: dict) -> None:
    quiet = nights["quiet"]
    assert quiet.returncode == 0, quiet.output[-4000:]
    assert "quiet night" in quiet.output
    assert "Running dbt command" not in quiet.output
    before, after = nights["quiet_state"]
    assert after == before, "published files, their run ids and the warehouse untouched"
    runs_before, runs_after = nights["quiet_runs"]
    assert runs_after == runs_before, "no Dagster run at all"


def test_a_workforce_night_loads_one_partition_and_builds_what_depends_on_it(
    nights: dict,
) -> None:
    data, home = nights["data"], nights["home"]
    output = nights["workforce"].output
    assert "new data in workforce_pcn_individual" in output
    nightly, publish = reversed(nights["workforce_runs"])  # get_runs lists newest first
    events = materialised(home, nightly)
    # The case-management pull is not partitioned: it records each night (0 rows when its
    # database is unchanged), as the dbt step runs only after every upstream step materialised.
    partitions = {part for key, part in events if key[0] == "raw" and part is not None}
    assert partitions == {NEW_DATE}, "the new partition, no event for an unchanged one"

    manifest = json.loads((data / "state" / "dbt" / "manifest.json").read_text())
    reach = downstream(manifest, WORKFORCE, *AUDIT)
    built = {key[-1] for key, _ in events if key[0] != "raw" and key[0] != "audit"}
    assert built, "the workforce marts are rebuilt"
    assert built <= reach, f"built outside the workforce's reach: {sorted(built - reach)}"
    assert {"fct_workforce_pcn_month", "pub_workforce_pcn_month"} <= built
    untouched = {
        "int_gp_appointments_unioned",
        "int_utilisation_cohorts_matched",
        "int_utilisation_cohorts_counted",
    }
    assert not untouched & built
    results = json.loads((data / "state" / "dbt" / "run_results.json").read_text())
    assert all(r["status"] in ("success", "pass") for r in results["results"])

    published = {tuple(key) for key, _ in materialised(home, publish)}
    assert ("published", "marts_duckdb") in published
    with duckdb.connect(str(data / PUBLISHED[0]), read_only=True) as con:
        (months,) = con.execute(
            "select count(*) from pub_workforce_pcn_month where census_month = date '2025-03-01'"
        ).fetchone()
    assert months > 0, "March's workforce is published"


def test_a_night_keeps_its_dbt_files_and_only_the_newest_few(nights: dict) -> None:
    # dbt's manifest, results and compiled SQL of a night are in a folder named by its run;
    # older nights' folders are removed, so the project's target/ does not grow every night.
    nightly, _ = reversed(nights["workforce_runs"])
    (folder,) = [p for p in NIGHTS.iterdir() if p.name.startswith(nightly[:8])]
    ran = json.loads((folder / "run_results.json").read_text())
    assert any(r["unique_id"].endswith(".fct_workforce_pcn_month") for r in ran["results"])
    assert 1 <= len([p for p in NIGHTS.iterdir() if p.is_dir()]) <= KEEP_NIGHTS


def test_a_full_build_afterwards_changes_nothing(nights: dict) -> None:
    data, home = nights["data"], nights["home"]
    full = run_pipeline(data, home, args=("--full",))
    assert full.returncode == 0, full.output[-4000:]
    assert "full dbt build: a full build was requested" in full.output
    for rel, want in nights["incremental"].items():
        got = table_fingerprints(data / rel)
        differ = sorted(t for t in set(got) | set(want) if got.get(t) != want.get(t))
        assert differ == [], f"{rel}: tables differing from the full build: {differ}"


def test_make_pipeline_does_not_reparse_an_unchanged_project(dbt_manifest: Path) -> None:
    once = subprocess.run(
        [sys.executable, "-m", "scripts.dbt_parse_if_changed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    again = subprocess.run(
        [sys.executable, "-m", "scripts.dbt_parse_if_changed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "manifest kept" in again.stdout, once.stdout + again.stdout


def test_the_nights_build_reuses_the_parse_make_manifest_made(
    dbt_manifest: Path, tmp_path: Path
) -> None:
    """The night's build parses only partially after `make manifest`, even when another dbt
    parse (a test session's, an engineer's, `make lint`'s templater) has since rewritten
    target/ for another data directory: `make manifest` notices and parses again. dbt keeps a
    hash of the profile's connection (the warehouse path, the memory cap) with its partial
    parse; a stale one made every night parse the whole project again."""
    from orchestration.lib.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR, load_settings

    settings = load_settings()
    project = str(DBT_PROJECT_DIR)
    # An operator's shell: the data directory exported (as the Makefile does), nothing else of
    # dbt's set; the settings' defaults apply.
    shell = {k: v for k, v in os.environ.items() if k not in settings.dbt_environment()}
    shell["SP_DATA_DIR"] = str(settings.data_dir)

    def dbt_parse(env: dict[str, str]) -> str:
        return subprocess.run(
            [str(DBT_EXECUTABLE), "parse", "--profiles-dir", project, "--project-dir", project],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def make_manifest() -> str:
        return subprocess.run(
            [sys.executable, "-m", "scripts.dbt_parse_if_changed"],
            cwd=ROOT,
            env=shell,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    make_manifest()
    dbt_parse({**shell, "SP_DATA_DIR": str(tmp_path)})  # someone else's parse, elsewhere
    assert "manifest kept" not in make_manifest()
    night = dbt_parse({**shell, **settings.dbt_environment()})  # as the dbt step starts dbt
    assert "Unable to do partial parsing" not in night, night[-2000:]

"""The incremental models read only extracts newer than those they hold, so a run that reloads
an old day (or receives a late extract) must rebuild them in full. The dbt step decides that
from the audit zone: these tests write audit rows as the ingest does and ask it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from orchestration.lib import zones
from orchestration.lib.ingest import AUDIT_SCHEMA, audit_dir
from orchestration.lib.settings import load_settings
from orchestration.lib.warehouse.selection import history_reloaded, incremental_source_tables

BIG_FACTS = {
    "gp_emis_appointments",
    "gp_systmone_appointments",
    "gp_emis_events",
    "gp_systmone_events",
    "acute_ae_attendances",
    "acute_apc_admissions",
    "acute_op_attendances",
    "gp_emis_registrations",
    "gp_systmone_registrations",
}


@pytest.fixture
def manifest(dbt_manifest: Path) -> dict:
    return json.loads(dbt_manifest.read_text())


def load(table: str, day: str, run_id: str) -> None:
    """One audit row, as the ingest writes for a file loaded by run `run_id`."""
    now = dt.datetime.now()
    row = {
        "table": table,
        "source_file": f"{table}_{day}.csv",
        "sha256": "0" * 64,
        "encoding": "utf-8",
        "rows_read": 10,
        "rows_loaded": 10,
        "rows_quarantined": 0,
        "outcome": "loaded",
        "message": None,
        "run_id": run_id,
        "started_at": now,
        "finished_at": now,
    }
    zones.append_to_partition(
        audit_dir(load_settings(), table),
        dt.date.fromisoformat(day),
        pl.DataFrame([row], schema=AUDIT_SCHEMA),
        f"run-{run_id}.parquet",
    )


def test_the_big_facts_feed_incremental_models_and_reference_tables_do_not(
    manifest: dict,
) -> None:
    assert incremental_source_tables(manifest) == BIG_FACTS


def test_a_first_load_and_a_new_night_are_not_history(data_dir: Path, manifest: dict) -> None:
    for day in ("2026-09-01", "2026-10-01"):
        load("gp_emis_appointments", day, "first")
    assert history_reloaded(manifest, "first", load_settings()) == {}
    load("gp_emis_appointments", "2026-11-01", "night")
    assert history_reloaded(manifest, "night", load_settings()) == {}


def test_a_rerun_day_or_a_late_extract_is_history(data_dir: Path, manifest: dict) -> None:
    for day in ("2026-09-01", "2026-10-01"):
        load("gp_emis_appointments", day, "first")
        load("acute_op_attendances", day, "first")
    load("gp_emis_appointments", "2026-10-01", "rerun")  # the latest day, loaded again
    load("acute_op_attendances", "2026-08-01", "rerun")  # an extract older than the others
    load("ref_practice_mapping", "2026-01-01", "rerun")  # not read by an incremental model
    assert history_reloaded(manifest, "rerun", load_settings()) == {
        "acute_op_attendances": ["2026-08-01"],
        "gp_emis_appointments": ["2026-10-01"],
    }

"""The big facts are incremental by whole months (macro incremental_months_filter): a nightly
run re-selects only the months that rows of newer extracts touch and replaces them whole. This
proves it gives exactly what a full build gives.

On a copy of the session's tiny warehouse, the rows of each source's latest extract are
removed from the incremental tables — the state the night before that extract landed — and
`dbt run` brings them back incrementally. The tables must then equal the full build row for
row (count and an order-independent hash), and a canary row planted in an untouched month must
survive: the run replaces the months that extract holds, never history. `make bench-warehouse` times the same thing on the icb tier.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "dbt_project"
# table -> (month column, row key)
INCREMENTAL = {
    "int_gp_appointments_unioned": ("appointment_month", "appointment_id"),
    "int_activity_events_unioned": ("activity_month", "activity_id"),
}


def fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    # Table names come from INCREMENTAL above, never from input.
    return con.execute(f"select count(*), sum(hash(t)) from {table} as t").fetchone()


@pytest.fixture
def night_before(pipeline_tiny: PipelineRun, tmp_path: Path) -> Path:
    """A data directory sharing the run's raw zone, holding a copy of its warehouse."""
    assert pipeline_tiny.returncode == 0, pipeline_tiny.output[-4000:]
    data = tmp_path / "data"
    data.mkdir()
    for zone in ("raw", "audit", "quarantine"):
        (data / zone).symlink_to(pipeline_tiny.data / zone)
    shutil.copy(pipeline_tiny.data / "warehouse.duckdb", data / "warehouse.duckdb")
    return data


def test_incremental_run_equals_the_full_build(night_before: Path) -> None:
    warehouse = night_before / "warehouse.duckdb"
    full = {}
    with duckdb.connect(str(warehouse)) as con:
        for table, (month, key) in INCREMENTAL.items():
            full[table] = fingerprint(con, table)
            latest = (
                f"(source_system, extract_date) in (select source_system, max(extract_date) "
                f"from {table} group by source_system)"
            )
            touched = f"{month} in (select {month} from {table} where {latest})"
            months_touched, months_all = con.execute(
                f"select count(distinct {month}) filter ({touched}), count(distinct {month}) "
                f"from {table}"
            ).fetchone()
            assert 0 < months_touched < months_all, (
                f"{table}: the latest extract touches some months"
            )
            # A canary in a month the latest extract does not touch: an incremental run must
            # leave history alone, so the canary survives it.
            con.execute(
                f"update {table} set person_id = 'canary-' || person_id where {key} = "
                f"(select min({key}) from {table} where not ({touched}))"
            )
            deleted = con.execute(f"delete from {table} where {latest}").fetchone()[0]
            assert deleted > 0, f"{table}: the latest extracts hold rows"

    env = {**os.environ, "SP_DATA_DIR": str(night_before)}
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--select",
            *INCREMENTAL,
            "--profiles-dir",
            str(PROJECT),
            "--project-dir",
            str(PROJECT),
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]

    with duckdb.connect(str(warehouse)) as con:
        for table in INCREMENTAL:
            canaries = con.execute(
                f"update {table} set person_id = substr(person_id, 8) "
                "where person_id like 'canary-%'"
            ).fetchone()[0]
            assert canaries == 1, f"{table}: the incremental run rewrote history"
            assert fingerprint(con, table) == full[table], f"{table} differs from the full build"

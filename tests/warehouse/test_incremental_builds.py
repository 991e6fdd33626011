"""The big facts are incremental by row key (macros newer_than_loaded and latest_versions): a
nightly run reads only the extracts newer than those already loaded, keeps each key's latest
version among them and replaces that key's row. The utilisation cohorts are incremental by
matched set: a run rebuilds only the sets the new extracts can reach. These tests prove both
give exactly what a full build gives.

Each works on a copy of the session's tiny run (raw zone and warehouse), so the shared run is
never changed. `make bench-warehouse` times the same thing on the icb tier.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest

from orchestration.lib.settings import DBT_EXECUTABLE

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "dbt_project"
# incremental table -> its row key
INCREMENTAL = {
    "int_gp_appointments_unioned": "appointment_id",
    "int_gp_events_unioned": "event_id",
    "int_activity_events_unioned": "activity_id",
}
# incremental by matched set: the match, and its members' activity counted
COHORTS = "int_utilisation_cohorts_matched"
COUNTED = "int_utilisation_cohorts_counted"
MONTHLY = ("gp_emis_", "gp_systmone_", "acute_")


def fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """Row count and an order-independent hash of every column but built_at (when the run that
    wrote a row started, which differs between builds by design)."""
    # Table names come from INCREMENTAL, COHORTS and COUNTED above, never from input.
    return con.execute(
        f"select count(*), sum(hash(t)) from (select * exclude (built_at) from {table}) as t"
    ).fetchone()


def fingerprints(warehouse: Path) -> dict[str, tuple[int, int]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {table: fingerprint(con, table) for table in [*INCREMENTAL, COHORTS, COUNTED]}


def dbt(data: Path, command: str, select: list[str], *args: str) -> subprocess.CompletedProcess:
    """A dbt command on a copy's data directory; the caller judges the outcome."""
    return subprocess.run(
        [str(DBT_EXECUTABLE), command, "--select", *select, *args]
        + ["--profiles-dir", str(PROJECT), "--project-dir", str(PROJECT)],
        cwd=PROJECT,
        env={**os.environ, "SP_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
    )


def dbt_run(data: Path, *args: str) -> None:
    """dbt run of the incremental models and everything they read, staging views included (a
    view names its raw zone's path, so it is rebuilt to read this copy's)."""
    proc = dbt(data, "run", [f"+{t}" for t in [*INCREMENTAL, COUNTED]], *args)
    assert proc.returncode == 0, proc.stdout[-4000:]


@pytest.fixture
def night_before(pipeline_tiny: PipelineRun, tmp_path: Path) -> Path:
    """A data directory holding copies of the run's raw zone and warehouse."""
    assert pipeline_tiny.returncode == 0, pipeline_tiny.output[-4000:]
    data = tmp_path / "data"
    data.mkdir()
    shutil.copytree(pipeline_tiny.data / "raw", data / "raw")
    for zone in ("audit", "quarantine"):
        (data / zone).symlink_to(pipeline_tiny.data / zone)
    shutil.copy(pipeline_tiny.data / "warehouse.duckdb", data / "warehouse.duckdb")
    return data


def test_incremental_run_restores_the_latest_extracts(night_before: Path) -> None:
    """Remove what each source's latest extract brought — the state the night before it landed
    — and an incremental run brings exactly that back, leaving every other row alone."""
    warehouse = night_before / "warehouse.duckdb"
    full = fingerprints(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        for table, key in INCREMENTAL.items():
            latest = (
                f"(source_system, extract_date) in (select source_system, max(extract_date) "
                f"from {table} group by source_system)"
            )
            # A canary in a row no newer extract re-sends: the run must leave it alone.
            con.execute(
                f"update {table} set person_id = 'canary-' || person_id where {key} = "
                f"(select min({key}) from {table} where not ({latest}))"
            )
            deleted = con.execute(f"delete from {table} where {latest}").fetchone()[0]
            assert deleted > 0, f"{table}: the latest extracts hold rows"

    dbt_run(night_before)

    with duckdb.connect(str(warehouse)) as con:
        for table in INCREMENTAL:
            canaries = con.execute(
                f"update {table} set person_id = substr(person_id, 8) "
                "where person_id like 'canary-%'"
            ).fetchone()[0]
            assert canaries == 1, f"{table}: the incremental run rewrote history"
    assert fingerprints(warehouse) == full


def dbt_build(data: Path, command: str = "build", *args: str) -> subprocess.CompletedProcess:
    """`dbt build` (or `dbt test`) of the GP appointments and what they read; not asserted."""
    select = ["+int_gp_appointments_unioned"]
    return dbt(data, command, select, "--exclude-resource-type", "unit_test", *args)


def test_a_nightly_build_tests_the_rows_it_wrote(night_before: Path) -> None:
    """In `dbt build`, the data tests of an incremental table check the rows that build wrote
    (macros/get_where_subquery.sql): a bad row written tonight fails tonight's build, while a row
    written on an earlier night is not checked again. `dbt test` checks every row, and so does a
    build with the var test_all_rows."""
    raw, warehouse = night_before / "raw", night_before / "warehouse.duckdb"
    failing = "not_null_int_gp_appointments_unioned_person_id"

    # A row from an earlier night goes bad (as if a test had failed then and nobody looked).
    with duckdb.connect(str(warehouse)) as con:
        old = con.execute("select min(appointment_id) from int_gp_appointments_unioned").fetchone()
        con.execute(
            "update int_gp_appointments_unioned set person_id = null where appointment_id = ?", old
        )
    tonight = dbt_build(night_before)
    assert tonight.returncode == 0, tonight.stdout[-4000:]
    assert f"PASS {failing}" in tonight.stdout
    every_row = dbt_build(night_before, "test")
    assert every_row.returncode == 1 and f"FAIL 1 {failing}" in every_row.stdout
    all_rows_build = dbt_build(night_before, "build", "--vars", "{test_all_rows: true}")
    assert all_rows_build.returncode == 1 and f"FAIL 1 {failing}" in all_rows_build.stdout

    # Put it right; tonight's extract then brings an appointment without a person.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from int_gp_appointments_unioned where person_id is null")
    appointments = pl.read_parquet(
        raw / "gp_emis_appointments" / "*" / "*.parquet", hive_partitioning=False
    )
    _append_next_extract(
        raw,
        "gp_emis_appointments",
        appointments.head(1).with_columns(person_id=pl.lit(None, pl.String)),
    )
    tonight = dbt_build(night_before)
    assert tonight.returncode == 1 and f"FAIL 1 {failing}" in tonight.stdout


def key_of(appointment: dict) -> str:
    """The warehouse's key of a raw EMIS appointment row."""
    return f"emis-{appointment['practice_code']}-{appointment['appointment_id']}"


def _next_extract_date(raw: Path, table: str) -> dt.date:
    """A month after the latest extract of a raw table."""
    latest = max(p.name for p in (raw / table).iterdir())
    return dt.date.fromisoformat(latest.removeprefix("extract_date=")) + dt.timedelta(days=31)


def _append_extract(raw: Path, table: str, extract_date: dt.date, rows: pl.DataFrame) -> None:
    part = raw / table / f"extract_date={extract_date.isoformat()}"
    part.mkdir(parents=True)
    rows.write_parquet(part / "part-0.parquet")


def _append_next_extract(raw: Path, table: str, rows: pl.DataFrame) -> None:
    """Rows as the raw table's next extract, a month after its latest."""
    _append_extract(raw, table, _next_extract_date(raw, table), rows)


def test_resent_versions_replace_their_rows_wherever_they_now_belong(night_before: Path) -> None:
    """A new extract re-sends rows loaded before: an attended appointment now cancelled and
    moved to another month, one moved two months later, one sent twice in the same extract,
    and a referral event recoded outside the codelist. The incremental run must give exactly
    the full rebuild, and each row's latest version must be the one kept."""
    raw, warehouse = night_before / "raw", night_before / "warehouse.duckdb"
    appointments = pl.read_parquet(
        raw / "gp_emis_appointments" / "*" / "*.parquet", hive_partitioning=False
    )
    attended = appointments.filter(pl.col("status") == "Attended").sort("appointment_id")
    cancelled, moved, twice = (attended.row(i, named=True) for i in (0, 1, 2))
    new_date = _next_extract_date(raw, "gp_emis_appointments")

    def version(row: dict, days: int, status: str, file: str, line: int) -> dict:
        return {
            **row,
            "appointment_date": row["appointment_date"] + dt.timedelta(days=days),
            "status": status,
            "_source_file": file,
            "_row_number": line,
        }

    resent = pl.DataFrame(
        [
            version(cancelled, 45, "Cancelled by Patient", "a.csv", 1),
            version(moved, 62, "Attended", "a.csv", 2),
            version(twice, 3, "Attended", "a.csv", 3),
            version(twice, 9, "Did Not Attend", "b.csv", 4),  # later line wins
        ],
        schema=appointments.schema,
    )
    _append_extract(raw, "gp_emis_appointments", new_date, resent)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        event_id, source_event = con.execute(
            "select event_id, source_event_id from int_gp_events_unioned "
            "where source_system = 'emis' order by event_id limit 1"
        ).fetchone()
    events = pl.read_parquet(raw / "gp_emis_events" / "*" / "*.parquet", hive_partitioning=False)
    recoded = events.filter(pl.col("event_guid") == source_event).head(1)
    _append_extract(
        raw,
        "gp_emis_events",
        new_date,
        recoded.with_columns(snomed_code=pl.lit("22298006"), _row_number=pl.lit(1, pl.Int64)),
    )

    dbt_run(night_before)
    incremental = fingerprints(warehouse)
    keys = [key_of(r) for r in (cancelled, moved, twice)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kept = dict(
            con.execute(
                "select appointment_id, appointment_date || ' ' || appointment_status "
                "from int_gp_appointments_unioned where appointment_id in (?, ?, ?)",
                keys,
            ).fetchall()
        )
        activity = dict(
            con.execute(
                "select activity_id, activity_date || ' ' || activity_code "
                "from int_activity_events_unioned where activity_id in (?, ?, ?)",
                keys,
            ).fetchall()
        )
        event_left = con.execute(
            "select count(*) from int_gp_events_unioned where event_id = ?", [event_id]
        ).fetchone()[0]

    day = dt.timedelta
    assert kept == {
        key_of(cancelled): f"{cancelled['appointment_date'] + day(45)} cancelled",
        key_of(moved): f"{moved['appointment_date'] + day(62)} attended",
        key_of(twice): f"{twice['appointment_date'] + day(9)} dna",
    }
    assert activity == {
        key_of(moved): (f"{moved['appointment_date'] + day(62)} gp_appointment"),
        key_of(twice): (f"{twice['appointment_date'] + day(9)} gp_dna"),
    }, "a cancelled appointment leaves the activity table; the others move"
    assert event_left == 0, "an event recoded outside the codelist leaves int_gp_events_unioned"

    dbt_run(night_before, "--full-refresh")
    assert fingerprints(warehouse) == incremental, "incremental run differs from a full rebuild"


def test_the_hashed_key_test_fails_on_a_duplicate(night_before: Path) -> None:
    """`unique_key` (macros/unique_key_test.sql) tests the big tables' keys through 64-bit
    hashes first: a duplicated activity must still fail it, and only it."""
    with duckdb.connect(str(night_before / "warehouse.duckdb")) as con:
        con.execute(
            "insert into int_activity_events_unioned "
            "select * from int_activity_events_unioned order by activity_id limit 1"
        )
    env = {**os.environ, "SP_DATA_DIR": str(night_before)}
    proc = subprocess.run(
        [str(DBT_EXECUTABLE), "test", "--select"]
        + ["int_activity_events_unioned int_gp_appointments_unioned,test_name:unique_key"]
        + ["--profiles-dir", str(PROJECT), "--project-dir", str(PROJECT)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "FAIL 1 unique_key_int_activity_events_unioned_activity_id" in proc.stdout
    assert "PASS unique_key_int_gp_appointments_unioned_appointment_id" in proc.stdout


def _latest_partitions(raw: Path) -> list[Path]:
    """The latest extract of every monthly GP and acute table (the new month of a nightly run)."""
    return [
        max(table.iterdir()) for table in sorted(raw.iterdir()) if table.name.startswith(MONTHLY)
    ]


def _built_at(warehouse: Path, table: str = COHORTS) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute(f"select built_at, count(*) from {table} group by 1").fetchall())


def _sets_kept_reaching(warehouse: Path, table: str, built_before: object, since: object) -> int:
    """Sets of ``table`` a run kept from ``built_before`` although their post window ends on
    or after ``since``."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            f"select count(distinct match_set_id) from {table} "
            "where built_at = ? and post_window_end >= ?",
            [built_before, since],
        ).fetchone()[0]


def test_cohorts_rebuild_only_the_sets_a_new_month_reaches(
    night_before: Path, tmp_path: Path
) -> None:
    """The night before the latest month landed, then the night it did. Every set whose windows
    reach the new month's activity is counted again, but the match is rebuilt only for the
    sets the month can change: new sets, and those whose kept candidates a newly registered,
    deregistered or referred person is or could now be among (their thinning cutoff). The
    result is exactly a full build's."""
    raw, warehouse = night_before / "raw", night_before / "warehouse.duckdb"
    held = tmp_path / "held_back"
    latest = _latest_partitions(raw)
    for part in latest:
        (held / part.parent.name).mkdir(parents=True)
        shutil.move(part, held / part.parent.name / part.name)
    dbt_run(night_before, "--full-refresh")
    (matched_before,) = _built_at(warehouse)
    (counted_before,) = _built_at(warehouse, COUNTED)

    for part in latest:
        shutil.move(held / part.parent.name / part.name, part)
    dbt_run(night_before)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        first_new = con.execute(
            "select min(changed_from) from int_extract_changes_dated "
            "where built_at = (select max(built_at) from int_extract_changes_dated)"
        ).fetchone()[0]
        reaching = con.execute(
            f"select count(distinct match_set_id) from {COHORTS} where post_window_end >= ?",
            [first_new],
        ).fetchone()[0]
    assert _sets_kept_reaching(warehouse, COUNTED, counted_before, first_new) == 0, (
        "every set whose windows reach the new month was counted again"
    )
    kept = _sets_kept_reaching(warehouse, COHORTS, matched_before, first_new)
    assert 0 < kept < reaching, (
        f"the match kept {kept} of the {reaching} sets the new month reaches: those it cannot change"
    )

    incremental = fingerprints(warehouse)
    dbt_run(night_before, "--full-refresh")
    assert fingerprints(warehouse) == incremental, "incremental run differs from a full rebuild"


def test_a_kept_candidate_deregistered_rebuilds_the_sets_that_kept_them(
    night_before: Path,
) -> None:
    """A comparison person is re-sent deregistered in the middle of their set's post window.
    They are no longer registered throughout, so their set must be rebuilt without them. The
    run rebuilds that set and only the few others that kept them among their candidates, not
    every set their practice holds after that date, and the result is a full build's."""
    raw, warehouse = night_before / "raw", night_before / "warehouse.duckdb"
    (before_built,) = _built_at(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        match_set, person, practice, left = con.execute(
            f"""
            select cohort.match_set_id, cohort.person_id, cohort.practice_code,
                cohort.index_date + interval 30 day
            from {COHORTS} as cohort
            inner join int_registrations_unioned as spell
                on cohort.person_id = spell.person_id
                and cohort.practice_code = spell.practice_code
            where cohort.cohort = 'comparison' and spell.source_system = 'emis'
            order by cohort.index_date, cohort.cohort_member_id
            limit 1
            """
        ).fetchone()
        at_practice = con.execute(
            f"select count(distinct match_set_id) from {COHORTS} "
            "where practice_code = ? and post_window_end >= ?",
            [practice, left],
        ).fetchone()[0]
    registrations = pl.read_parquet(
        raw / "gp_emis_registrations" / "*" / "*.parquet", hive_partitioning=False
    )
    spell = (
        registrations.filter(
            (pl.col("person_id") == person) & (pl.col("practice_code") == practice)
        )
        .sort("_row_number")
        .row(-1, named=True)
    )
    _append_next_extract(
        raw,
        "gp_emis_registrations",
        pl.DataFrame(
            [
                {
                    **spell,
                    "deregistered_date": left.date(),
                    "_source_file": "r.csv",
                    "_row_number": 1,
                }
            ],
            schema=registrations.schema,
        ),
    )

    dbt_run(night_before)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        still_there = con.execute(
            f"select count(*) from {COHORTS} where match_set_id = ? and person_id = ?",
            [match_set, person],
        ).fetchone()[0]
        rebuilt = con.execute(
            f"select count(distinct match_set_id) from {COHORTS} where built_at != ?",
            [before_built],
        ).fetchone()[0]
    assert still_there == 0, "the deregistered person left the set"
    assert 1 <= rebuilt < at_practice, (
        f"{rebuilt} sets rebuilt of the {at_practice} at the practice whose post window the "
        "deregistration reaches"
    )
    incremental = fingerprints(warehouse)
    dbt_run(night_before, "--full-refresh")
    assert fingerprints(warehouse) == incremental, "incremental run differs from a full rebuild"


def test_a_resent_appointment_in_an_old_window_rebuilds_its_set(night_before: Path) -> None:
    """An attended appointment in the post window of one of the earliest sets is re-sent as
    cancelled in a new extract. Its date lies years before the extract's, yet the set it
    counts in is rebuilt: one appointment fewer for that member, as a full build says."""
    raw, warehouse = night_before / "raw", night_before / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        member, source_id, practice = con.execute(
            f"""
            select cohort.cohort_member_id, appointment.source_appointment_id,
                appointment.practice_code
            from {COHORTS} as cohort
            inner join int_gp_appointments_unioned as appointment
                on cohort.person_id = appointment.person_id
                and appointment.appointment_date > cohort.index_date
                and appointment.appointment_date <= cohort.post_window_end
            where appointment.source_system = 'emis'
                and appointment.appointment_status = 'attended'
            order by cohort.post_window_end, cohort.cohort_member_id,
                appointment.source_appointment_id
            limit 1
            """
        ).fetchone()
        before = con.execute(
            f"select gp_appointment_post from {COUNTED} where cohort_member_id = ?", [member]
        ).fetchone()[0]

    appointments = pl.read_parquet(
        raw / "gp_emis_appointments" / "*" / "*.parquet", hive_partitioning=False
    )
    row = appointments.filter(
        (pl.col("appointment_id").cast(pl.Utf8) == source_id)
        & (pl.col("practice_code") == practice)
    ).row(0, named=True)
    _append_next_extract(
        raw,
        "gp_emis_appointments",
        pl.DataFrame(
            [{**row, "status": "Cancelled by Patient", "_source_file": "c.csv", "_row_number": 1}],
            schema=appointments.schema,
        ),
    )

    dbt_run(night_before)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = con.execute(
            f"select gp_appointment_post from {COUNTED} where cohort_member_id = ?", [member]
        ).fetchone()
    assert after == (before - 1,), "the cancelled appointment no longer counts"

    incremental = fingerprints(warehouse)
    dbt_run(night_before, "--full-refresh")
    assert fingerprints(warehouse) == incremental, "incremental run differs from a full rebuild"


def test_a_person_resent_with_another_sex_rebuilds_every_set(night_before: Path) -> None:
    """A registration re-sent with another sex can move its person into or out of any set's
    pool, whatever the dates: every set is rebuilt, and the result is a full build's."""
    raw, warehouse = night_before / "raw", night_before / "warehouse.duckdb"
    (before_built,) = _built_at(warehouse)
    registrations = pl.read_parquet(
        raw / "gp_emis_registrations" / "*" / "*.parquet", hive_partitioning=False
    )
    row = registrations.filter(pl.col("sex") == "Male").sort("person_id").row(0, named=True)
    _append_next_extract(
        raw,
        "gp_emis_registrations",
        pl.DataFrame(
            [{**row, "sex": "Female", "_source_file": "r.csv", "_row_number": 1}],
            schema=registrations.schema,
        ),
    )

    dbt_run(night_before)
    assert before_built not in _built_at(warehouse), "every set was rebuilt"
    incremental = fingerprints(warehouse)
    dbt_run(night_before, "--full-refresh")
    assert fingerprints(warehouse) == incremental, "incremental run differs from a full rebuild"

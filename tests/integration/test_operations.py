"""Running unattended: the landing sensor, the nightly schedule, backfills of a date range,
retries of transient faults only, and freshness per source cadence."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from sqlalchemy import exc as sa_exc

import schemas
from orchestration.defs.operations.definitions import (
    freshness_checks,
    landing_sensor,
    nightly_schedule,
)
from orchestration.lib import zones
from orchestration.lib.assets import build_ingest_asset, is_transient, retry_request
from orchestration.lib.checks import build_freshness_check, ingest_checks
from orchestration.lib.ingest import audit_dir
from orchestration.lib.partitions import EXTRACT_DATES, RANGE_END_TAG, RANGE_START_TAG, range_tags
from orchestration.lib.resources import PipelineSettings
from orchestration.lib.settings import load_settings

SPEC = schemas.EXTRACTS["gp_emis_appointments"]
# The settings resource as the code location registers it when nothing is configured for the
# run: every field from the environment the `data_dir` fixture sets up.
RESOURCES = {"settings": PipelineSettings()}
HEADER = "Appointment ID,Practice Code,NHS Number,Appointment Date,Status,Mode,Clinician Type,National Category\n"


def land(data: Path, day: str, practice: str = "Z00001", age_seconds: float = 3600) -> Path:
    folder = data / "landing" / "gp_emis" / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{practice}_Appointments_{day.replace('-', '')}.csv"
    path.write_text(HEADER + f"A-{day},{practice},9434765919,03/01/2024,Attended,Telephone,GP,\n")
    old = time.time() - age_seconds
    os.utime(path, (old, old))
    return path


def sensor_tick(instance: dg.DagsterInstance, cursor: str | None):
    ctx = dg.build_sensor_context(instance=instance, cursor=cursor, resources=RESOURCES)
    result = landing_sensor(ctx)
    if isinstance(result, dg.SensorResult):  # what the daemon does with it
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
    return result, ctx.cursor


def test_sensor_requests_one_run_per_change_and_waits_for_complete_files(data_dir: Path) -> None:
    land(data_dir, "2024-02-01")
    land(data_dir, "2024-03-01")
    with dg.instance_for_test() as instance:
        first, cursor = sensor_tick(instance, None)
        (request,) = first.run_requests
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == (
            "2024-02-01",
            "2024-03-01",
        )
        assert instance.get_dynamic_partitions(EXTRACT_DATES.name) == ["2024-02-01", "2024-03-01"]

        again, cursor = sensor_tick(instance, cursor)
        assert isinstance(again, dg.SkipReason), "nothing new: no second run"

        land(data_dir, "2024-04-01", age_seconds=0)  # still being copied
        busy, cursor = sensor_tick(instance, cursor)
        assert isinstance(busy, dg.SkipReason) and "still being written" in busy.skip_message

        land(data_dir, "2024-01-01", age_seconds=3600)  # a late file for an old date
        land(data_dir, "2024-04-01", age_seconds=3600)  # now complete
        late, _ = sensor_tick(instance, cursor)
        (request2,) = late.run_requests
        assert instance.get_dynamic_partitions(EXTRACT_DATES.name)[-2:] == [
            "2024-01-01",
            "2024-04-01",
        ]
        assert (request2.tags[RANGE_START_TAG], request2.tags[RANGE_END_TAG]) == (
            "2024-01-01",
            "2024-04-01",
        )
        assert request2.run_key != request.run_key


def test_nightly_schedule_covers_every_landed_date(data_dir: Path) -> None:
    with dg.instance_for_test() as instance:
        ctx = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=dt.datetime(2024, 5, 2, 2, 0),
            resources=RESOURCES,
        )
        assert isinstance(nightly_schedule(ctx), dg.SkipReason), (
            "empty landing area: nothing to run"
        )
        land(data_dir, "2024-02-01")
        land(data_dir, "2024-05-01")
        request = nightly_schedule(ctx)
        wanted = range_tags("2024-02-01", "2024-05-01")
        assert {k: request.tags[k] for k in wanted} == wanted
        assert instance.get_dynamic_partitions(EXTRACT_DATES.name) == ["2024-02-01", "2024-05-01"]


def test_backfill_of_a_range_loads_exactly_that_range(data_dir: Path) -> None:
    zones.replace_partition(
        data_dir / "raw" / "ref_practice_mapping",
        dt.date(2024, 1, 1),
        pl.DataFrame({"practice_code": ["Z00001"]}),
    )
    for day in ("2024-02-01", "2024-03-01", "2024-04-01"):
        land(data_dir, day)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(
            EXTRACT_DATES.name, ["2024-02-01", "2024-03-01", "2024-04-01"]
        )
        result = dg.materialize(
            [build_ingest_asset(SPEC)],
            resources=RESOURCES,
            instance=instance,
            tags=range_tags("2024-02-01", "2024-03-01"),
        )
    assert result.success
    loaded = sorted(p.name for p in (data_dir / "raw" / SPEC.table).glob("extract_date=*"))
    assert loaded == ["extract_date=2024-02-01", "extract_date=2024-03-01"]
    partitions = {e.partition for e in result.get_asset_materialization_events()}
    assert partitions == {"2024-02-01", "2024-03-01"}, (
        "one run, one partition per landed extract date"
    )


def test_only_transient_faults_are_retried(tmp_path: Path) -> None:
    db = tmp_path / "cms.sqlite"
    holder = sqlite3.connect(db, timeout=0)
    holder.execute("create table t (x)")
    holder.execute("begin exclusive")
    try:
        sqlite3.connect(db, timeout=0).execute("select * from t")
    except sqlite3.OperationalError as locked:
        wrapped = sa_exc.OperationalError("select", {}, locked)
    finally:
        holder.rollback()
        holder.close()
    assert is_transient(wrapped), "a locked source database heals on retry"
    assert is_transient(BlockingIOError("resource temporarily unavailable"))
    assert not is_transient(
        sa_exc.OperationalError("select", {}, sqlite3.OperationalError("no such column: person_id"))
    )
    assert not is_transient(KeyError("a bug"))

    delays = load_settings().retry_delays
    assert delays == (10, 30, 90), "the default, when SP_RETRY_DELAYS is not set"
    assert [retry_request(wrapped, n, delays).seconds_to_wait for n in range(3)] == [10, 30, 90]
    assert retry_request(wrapped, 3, delays) is None, "three retries, then the failure stands"
    assert retry_request(KeyError("a bug"), 0, delays) is None, "programming errors fail at once"


@pytest.mark.parametrize(("age_days", "passes"), [(1, True), (2, True), (5, False)])
def test_freshness_of_a_daily_source(data_dir: Path, age_days: int, passes: bool) -> None:
    day = dt.date.today() - dt.timedelta(days=age_days)
    zones.partition_dir(audit_dir(load_settings(), SPEC.table), day).mkdir(parents=True)
    result = build_freshness_check(SPEC)(**RESOURCES)
    assert result.passed is passes
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["age_days"].value == age_days


def test_freshness_of_a_monthly_source_allows_a_month(data_dir: Path) -> None:
    spec = schemas.EXTRACTS["workforce_pcn_individual"]
    day = dt.date.today() - dt.timedelta(days=40)
    zones.partition_dir(audit_dir(load_settings(), spec.table), day).mkdir(parents=True)
    assert build_freshness_check(spec)(**RESOURCES).passed
    assert not build_freshness_check(schemas.EXTRACTS["ref_imd_lsoa"])(**RESOURCES).passed, (
        "never loaded: stale"
    )


def run_ingest_with_checks(
    instance: dg.DagsterInstance, selection: dg.AssetSelection | None = None
) -> dict[str, dg.AssetCheckEvaluation]:
    """Materialise the ingest asset of SPEC with its reconciliation and quarantine-rate checks,
    through Dagster, for the one landed extract date; the checks' evaluations by name."""
    instance.add_dynamic_partitions(EXTRACT_DATES.name, ["2024-02-01"])
    result = dg.materialize(
        [build_ingest_asset(SPEC), *ingest_checks(SPEC)],
        resources=RESOURCES,
        instance=instance,
        tags=range_tags("2024-02-01", "2024-02-01"),
        selection=selection,
        raise_on_error=False,
    )
    assert result.success, "check results never fail the ingest run itself"
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def land_rows(data: Path, *rows: str) -> None:
    zones.replace_partition(
        data / "raw" / "ref_practice_mapping",
        dt.date(2024, 1, 1),
        pl.DataFrame({"practice_code": ["Z00001"]}),
    )
    folder = data / "landing" / "gp_emis" / "2024-02-01"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Z00001_Appointments_20240201.csv").write_text(HEADER + "".join(rows))


GOOD_ROW = "A{n},Z00001,9434765919,03/01/2024,Attended,Telephone,GP,\n"


def test_quarantine_rate_check_warns_above_the_threshold(data_dir: Path) -> None:
    # 1 bad row in 10 is 10 %, above the 5 % threshold of GP appointments.
    assert SPEC.quarantine_rate_warn == 0.05
    land_rows(
        data_dir,
        *(GOOD_ROW.format(n=n) for n in range(9)),
        "B1,Z00001,9434765918,03/01/2024,Attended,Telephone,GP,\n",
    )
    with dg.instance_for_test() as instance:
        checks = run_ingest_with_checks(instance)
    rate = checks["quarantine_rate"]
    assert not rate.passed and rate.severity == dg.AssetCheckSeverity.WARN
    assert rate.metadata["rate"].value == 0.1 and rate.metadata["threshold"].value == 0.05
    assert checks["rows_reconcile"].passed, "quarantined rows are still accounted for"


def test_quarantine_rate_check_passes_at_or_below_the_threshold(data_dir: Path) -> None:
    land_rows(data_dir, *(GOOD_ROW.format(n=n) for n in range(20)))
    with dg.instance_for_test() as instance:
        checks = run_ingest_with_checks(instance)
    assert checks["quarantine_rate"].passed
    assert checks["quarantine_rate"].metadata["rows_read"].value == 20


def test_rows_reconcile_check_fails_when_the_zones_disagree_with_the_audit(
    data_dir: Path,
) -> None:
    """The check passes after a real ingest, and fails, with the figures, when a raw-zone
    partition loses a row behind the audit's back (a partial write, a manual edit)."""
    land_rows(
        data_dir,
        GOOD_ROW.format(n=1),
        GOOD_ROW.format(n=2),
        "B1,Z00001,9434765918,03/01/2024,Attended,Telephone,GP,\n",
    )
    with dg.instance_for_test() as instance:
        checks = run_ingest_with_checks(instance)
        reconciled = checks["rows_reconcile"]
        assert reconciled.passed
        assert {k: reconciled.metadata[k].value for k in ("rows_read", "raw_zone_rows")} == {
            "rows_read": 3,
            "raw_zone_rows": 2,
        }

        raw = zones.read_zone(data_dir / "raw" / SPEC.table)
        zones.replace_partition(
            data_dir / "raw" / SPEC.table, dt.date(2024, 2, 1), raw.drop("extract_date").head(1)
        )
        rerun = run_ingest_with_checks(
            instance, selection=dg.AssetSelection.checks(*ingest_checks(SPEC))
        )
    failed = rerun["rows_reconcile"]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["rows_loaded"].value == 2 and failed.metadata["raw_zone_rows"].value == 1


@pytest.mark.parametrize(("age_days", "passes"), [(1, True), (5, False)])
def test_freshness_of_the_case_management_system_follows_its_newest_change(
    data_dir: Path, age_days: int, passes: bool
) -> None:
    """Its partitions are change months, so the newest change pulled (last_modified), not the
    newest extract date, says whether it is still sending; the check is in the hourly job."""
    changed = dt.datetime.combine(dt.date.today() - dt.timedelta(days=age_days), dt.time(9))
    month = changed.date().replace(day=1)
    zones.replace_partition(
        data_dir / "raw" / "cms_contacts", month, pl.DataFrame({"last_modified": [changed]})
    )
    zones.replace_partition(
        data_dir / "raw" / "cms_referrals",
        month,
        pl.DataFrame({"last_modified": [changed - dt.timedelta(days=20)]}),
    )
    key = dg.AssetCheckKey(dg.AssetKey(["raw", "cms_referrals"]), "extract_freshness")
    (check,) = [c for c in freshness_checks if c.check_key == key]
    result = check(**RESOURCES)
    assert result.passed is passes
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["age_days"].value == age_days

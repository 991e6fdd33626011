"""How the pipeline runs unattended: the nightly schedule, the landing sensor, and freshness
checks evaluated hourly in their own job (so a stale source alerts even on nights when the
pipeline itself succeeds, and does not clutter the nightly run)."""

from __future__ import annotations

import dagster as dg

from orchestration.lib.checks import (
    UNRECOGNISED_FILES,
    build_case_management_freshness_check,
    build_freshness_check,
    build_landing_accounted,
)
from orchestration.lib.resources import PipelineSettings
from orchestration.lib.schedules import landing_run_request, night_run_request
from orchestration.lib.warehouse.project import sp_dbt_project
from orchestration.lib.warehouse.translator import disclosure_check_keys, published_mart_keys
from schemas import EXTRACTS, case_management

# The audit and quarantine zones are written by every ingest asset as a side effect; declaring
# them as assets fed by all of them keeps lineage one graph down to `audit.loads` in the warehouse.
_ingest_keys = [dg.AssetKey(["raw", table]) for table in EXTRACTS]
# Files in the landing area that no extract recognises are audited too (table _unrecognised),
# and its check landing_accounted fails while any is there; it runs in the nightly job.
landing_accounted = build_landing_accounted()
audit_zone = [
    dg.AssetSpec(
        ["audit", "loads"],
        deps=[*_ingest_keys, UNRECOGNISED_FILES],
        group_name="audit",
        kinds={"parquet"},
        description="data/audit/loads/: one row per landed file per ingest run (written by every ingest asset).",
    ),
    dg.AssetSpec(
        ["audit", "quarantine"],
        deps=_ingest_keys,
        group_name="audit",
        kinds={"parquet"},
        description="data/quarantine/: one row per rejected row and failed check (written by every ingest asset).",
    ),
]

freshness_checks = [
    *(
        build_freshness_check(spec)
        for spec in EXTRACTS.values()
        if not spec.table.startswith("cms_")
    ),
    build_case_management_freshness_check(case_management.EXTRACTS),
]

# Publishing is its own run, started when the nightly run succeeds. In one run, Dagster skips a
# step when any asset it depends on was not materialised in that run — and the dbt step leaves
# out whatever depends on an unreconciled or unreachable source, or on a failed test. Publishing
# in the same run would then publish nothing at all; in its own run it publishes every mart,
# the ones left out keeping their last build. The disclosure check runs in the publish run, so
# it still blocks every publish step (blocking checks act within a run).
_disclosure_checks = disclosure_check_keys(published_mart_keys(sp_dbt_project))
_publishing = dg.AssetSelection.groups("publish") | dg.AssetSelection.checks(*_disclosure_checks)

nightly_job = dg.define_asset_job(
    "nightly_pipeline",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.groups("publish")
    - dg.AssetSelection.checks(*freshness_checks, *_disclosure_checks),
    description="Landing → raw/quarantine → dbt build; `publish` follows when it succeeds. "
    "`make pipeline` runs both.",
)

publish_job = dg.define_asset_job(
    "publish",
    selection=_publishing,
    description="Disclosure check (blocking), then the published layer to DuckDB, Parquet and "
    "PostgreSQL, its Great Expectations suites and the report.",
)

freshness_job = dg.define_asset_job(
    "freshness_checks",
    selection=dg.AssetSelection.checks(*freshness_checks),
    description="Is every source still sending? (newest loaded extract vs its cadence)",
)


# 02:00 UK time all year (Europe/London follows BST). The run covers the extract dates with new
# or changed files (orchestration/lib/night.py); a quiet night (nothing landed or changed, no
# dbt change or failure, nothing left to publish) is skipped with its reasons in the tick.
@dg.schedule(
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    name="nightly_0200_europe_london",
)
def nightly_schedule(
    context: dg.ScheduleEvaluationContext, settings: PipelineSettings
) -> dg.RunRequest | dg.SkipReason:
    return night_run_request(context.instance, settings.get_settings(), full=False)


# Sundays 03:00 UK time: the whole warehouse rebuilt and republished, whatever landed (the
# nightly builds only what the night reaches). `make pipeline-full` does the same on demand.
@dg.schedule(
    job=nightly_job,
    cron_schedule="0 3 * * 0",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    name="weekly_full_build_sunday_0300_europe_london",
)
def weekly_full_build(
    context: dg.ScheduleEvaluationContext, settings: PipelineSettings
) -> dg.RunRequest | dg.SkipReason:
    return night_run_request(context.instance, settings.get_settings(), full=True)


freshness_schedule = dg.ScheduleDefinition(
    name="hourly_freshness_checks",
    job=freshness_job,
    cron_schedule="15 * * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


@dg.sensor(
    job=nightly_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a run when files land or change under data/landing/, once they have "
    "stopped changing (a file still being copied is not picked up half-written).",
)
def landing_sensor(
    context: dg.SensorEvaluationContext, settings: PipelineSettings
) -> dg.SensorResult | dg.SkipReason:
    cursor, result = landing_run_request(context.instance, context.cursor, settings.get_settings())
    if cursor is not None:
        context.update_cursor(cursor)
    return result


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_job],
    request_job=publish_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Publishes after every successful nightly run (a failed run publishes nothing: "
    "yesterday's published marts stay).",
)
def publish_after_nightly(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"publish-after-{context.dagster_run.run_id}")


defs = dg.Definitions(
    assets=[*audit_zone, landing_accounted],
    asset_checks=freshness_checks,
    jobs=[nightly_job, publish_job, freshness_job],
    schedules=[nightly_schedule, weekly_full_build, freshness_schedule],
    sensors=[landing_sensor, publish_after_nightly],
)

"""What the nightly and the weekly schedules ask for: one run over the extract dates that need
it, or the reason there is nothing to do (shown in the schedule's tick)."""

from __future__ import annotations

import dagster as dg

from orchestration.lib import night
from orchestration.lib.landing_watch import landed_dates
from orchestration.lib.partitions import covering_range, register
from orchestration.lib.settings import Settings


def night_run_request(
    instance: dg.DagsterInstance, cfg: Settings, full: bool
) -> dg.RunRequest | dg.SkipReason:
    """The nightly run covers the extract dates with new or changed files (the newest alone when
    only code, a failure or publishing needs a run) and is skipped on a quiet night; a full
    build covers every landed date and runs whatever landed."""
    dates = landed_dates(cfg)
    if not dates:
        return dg.SkipReason("the landing area is empty")
    if full:
        register(instance, dates)
        return dg.RunRequest(
            tags={
                **covering_range(instance, dates),
                night.FULL_BUILD_TAG: "true",
                night.LANDING_TAG: night.landing_fingerprint(cfg),
            }
        )
    plan = night.plan_night(cfg)
    if plan.quiet:
        return dg.SkipReason("quiet night: nothing landed, changed or failed since the last build")
    register(instance, dates)
    tags = covering_range(instance, plan.dates or dates[-1:])
    return dg.RunRequest(tags={**tags, night.LANDING_TAG: plan.landing})

"""What the nightly and the weekly schedules and the landing sensor ask for: one run over the
extract dates that need it, or the reason there is nothing to do (shown in the tick)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import dagster as dg

from orchestration.lib import night
from orchestration.lib.landing_watch import landed_dates, landing_fingerprints
from orchestration.lib.partitions import EXTRACT_DATES, covering_range, new_keys, register
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


def landing_run_request(
    instance: dg.DagsterInstance, cursor: str | None, cfg: Settings
) -> tuple[str | None, dg.SensorResult | dg.SkipReason]:
    """(the sensor's new cursor or None to keep it, what it returns): one run over the date
    folders whose complete files changed since the cursor's fingerprints; a folder whose files
    are still being copied waits for a later tick."""
    seen = json.loads(cursor) if cursor else {}
    ready, busy = landing_fingerprints(cfg)
    changed = sorted(d for d, fp in ready.items() if seen.get(d) != fp)
    if not changed:
        return None, dg.SkipReason(
            f"no new complete extracts ({len(busy)} date folder(s) still being written)"
        )
    dates = [dt.date.fromisoformat(d) for d in changed]
    added = new_keys(instance, dates)
    # The same changes give the same run key: the daemon never requests one change twice.
    key = hashlib.sha256(
        json.dumps({d: ready[d] for d in changed}, sort_keys=True).encode()
    ).hexdigest()[:16]
    new_cursor = json.dumps({**seen, **{d: ready[d] for d in changed}}, sort_keys=True)
    return new_cursor, dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"landing-{key}", tags=covering_range(instance, dates, added))
        ],
        dynamic_partitions_requests=[EXTRACT_DATES.build_add_request(added)] if added else [],
    )

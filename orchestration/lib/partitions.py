"""Extract dates as Dagster partitions.

Every landed file sits under ``data/landing/<source>/<extract_date>/``; the extract date is the
partition key of every file-based ingest asset. Partitions are daily because the GP feeds are
daily; monthly sources simply have files on one date a month. A backfill of any range runs as
one run (``BackfillPolicy.single_run``), which reads ``context.partition_time_window``.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings

import dagster as dg

# Europe/London: an extract dated 2024-03-31 is the NHS's 31 March, through the clock change.
EXTRACT_DATES = dg.DailyPartitionsDefinition(
    start_date=os.environ.get("SP_PARTITIONS_START", "2020-01-01"),
    timezone="Europe/London",
    end_offset=1,  # files dated today are a valid partition (a source may land before midnight)
)

with warnings.catch_warnings():
    # backfill_policy is marked beta in dagster 1.13; it is the supported way to make a UI
    # backfill of a date range one run instead of one run per day.
    warnings.simplefilter("ignore", dg.BetaWarning)
    SINGLE_RUN_BACKFILL = dg.BackfillPolicy.single_run()

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def range_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    """Run tags that make one run cover every extract date from ``first`` to ``last``."""
    return {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}


def dates_in_window(context: dg.AssetExecutionContext, dates: list[dt.date]) -> list[dt.date]:
    """The landed extract dates this run is responsible for."""
    if not context.has_partition_key_range and not context.has_partition_key:
        return dates
    window = context.partition_time_window
    start, end = window.start.date(), window.end.date()
    return [d for d in dates if start <= d < end]

"""Extract dates as Dagster partitions.

Every landed file sits under ``data/landing/<source>/<extract_date>/``; the extract date is the
partition key of every file-based ingest asset. The partitions are the extract dates that have
actually landed (dynamic partitions, registered by the sensor, the schedule and
`make pipeline`), not every calendar day: a monthly source over five years is 60 partitions, not
1,800 empty ones, each costing an event in the run log. A backfill of any range runs as one run
(``BackfillPolicy.single_run``), which reads ``context.partition_keys``.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence

import dagster as dg

EXTRACT_DATES_NAME = "extract_dates"
EXTRACT_DATES = dg.DynamicPartitionsDefinition(name=EXTRACT_DATES_NAME)

with warnings.catch_warnings():
    # backfill_policy is marked beta in dagster 1.13; it is the supported way to make a UI
    # backfill of a date range one run instead of one run per date.
    warnings.simplefilter("ignore", dg.BetaWarning)
    SINGLE_RUN_BACKFILL = dg.BackfillPolicy.single_run()

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def new_keys(instance: dg.DagsterInstance, dates: list[dt.date]) -> list[str]:
    """The landed dates Dagster does not know yet, oldest first."""
    known = set(instance.get_dynamic_partitions(EXTRACT_DATES_NAME))
    return sorted({d.isoformat() for d in dates} - known)


def register(instance: dg.DagsterInstance, dates: list[dt.date]) -> None:
    keys = new_keys(instance, dates)
    if keys:
        instance.add_dynamic_partitions(EXTRACT_DATES_NAME, keys)


def range_tags(first: str | dt.date, last: str | dt.date) -> dict[str, str]:
    """Run tags that make one run cover the partitions from ``first`` to ``last``."""
    return {RANGE_START_TAG: str(first), RANGE_END_TAG: str(last)}


def covering_range(
    instance: dg.DagsterInstance, dates: list[dt.date], extra: Sequence[str] = ()
) -> dict[str, str]:
    """Tags for one run over ``dates``. Dynamic partitions are ordered as they were added (a late
    file for an old date comes last), so the range spans the positions, not the calendar."""
    order = [*instance.get_dynamic_partitions(EXTRACT_DATES_NAME), *extra]
    wanted = {d.isoformat() for d in dates}
    positions = [i for i, key in enumerate(order) if key in wanted]
    return range_tags(order[min(positions)], order[max(positions)])


def dates_in_window(context: dg.AssetExecutionContext, dates: list[dt.date]) -> list[dt.date]:
    """The landed extract dates this run is responsible for."""
    if not context.has_partition_key_range and not context.has_partition_key:
        return dates
    keys = set(context.partition_keys)
    return [d for d in dates if d.isoformat() in keys]

"""The audit of loads: one row per landed file per run, under ``<data>/audit/loads``.

It says what happened to each file (loaded, partial, quarantined, rejected, duplicate) and how
many rows went where; the latest run of a partition is what a rerun compares against.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from orchestration.lib import zones
from orchestration.lib.settings import Settings
from schemas._base import ExtractSpec

AUDIT_SCHEMA = {
    "table": pl.Utf8,
    "source_file": pl.Utf8,
    "sha256": pl.Utf8,
    "encoding": pl.Utf8,
    "rows_read": pl.Int64,
    "rows_loaded": pl.Int64,
    "rows_quarantined": pl.Int64,
    "outcome": pl.Utf8,
    "message": pl.Utf8,
    "run_id": pl.Utf8,
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
}


def previously_loaded(
    settings: Settings, spec: ExtractSpec, extract_date: dt.date
) -> set[tuple[str, str]]:
    """(file, sha256) pairs of the latest run recorded for this partition."""
    part = zones.partition_dir(settings.audit / f"table={spec.table}", extract_date)
    if not part.exists():
        return set()
    audit = pl.read_parquet(sorted(part.glob("*.parquet")))
    if audit.is_empty():
        return set()
    latest = audit.filter(pl.col("finished_at") == pl.col("finished_at").max())
    return set(zip(latest["source_file"], latest["sha256"], strict=True))


def latest_audit(settings: Settings, table: str) -> pl.DataFrame:
    """The audit rows of the latest run of every partition of ``table`` (empty if none)."""
    audit = zones.read_zone(settings.audit / f"table={table}")
    if audit.is_empty():
        return audit
    return audit.filter(pl.col("finished_at") == pl.col("finished_at").max().over("extract_date"))


def loaded_files(settings: Settings, spec: ExtractSpec) -> dict[str, tuple[dt.date, str]]:
    """sha256 → (extract date, file) of every file the latest run of each partition loaded."""
    latest = latest_audit(settings, spec.table)
    if latest.is_empty():
        return {}
    latest = latest.filter(
        pl.col("outcome").is_in(["loaded", "partial", "quarantined"]) & (pl.col("rows_read") > 0)
    )
    return {
        sha: (day, name)
        for sha, day, name in latest.select("sha256", "extract_date", "source_file").iter_rows()
    }

"""The audit of loads: one row per landed file per run, under ``<data>/audit/loads``.

It says what happened to each file (loaded, partial, quarantined, rejected, duplicate) and how
many rows went where; the latest run of a partition is what a rerun compares against.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path
from typing import Any

import polars as pl

from orchestration.lib import zones
from orchestration.lib.ingest.contract import LandedFile
from orchestration.lib.ingest.withhold import withhold_identifiers
from orchestration.lib.settings import Settings
from schemas._base import ExtractSpec

# Any: polars types schema keys as names or selectors and values as classes or instances.
AUDIT_SCHEMA: dict[Any, Any] = {
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


def audit_dir(settings: Settings, table: str) -> Path:
    """The audit of one table (``Settings.audit_table``, which modules that must stay light to
    import, such as the night planner, call directly)."""
    return settings.audit_table(table)


def previously_loaded(
    settings: Settings, spec: ExtractSpec, extract_date: dt.date
) -> set[tuple[str, str]]:
    """(file, sha256) pairs of the latest run recorded for this partition."""
    part = zones.partition_dir(audit_dir(settings, spec.table), extract_date)
    if not part.exists():
        return set()
    audit = pl.read_parquet(sorted(part.glob("*.parquet")))
    if audit.is_empty():
        return set()
    latest = audit.filter(pl.col("finished_at") == pl.col("finished_at").max())
    return set(zip(latest["source_file"], latest["sha256"], strict=True))


# Per audit directory: the files' (name, size, mtime) when last read, and the latest rows.
_latest: dict[Path, tuple[tuple[tuple[str, int, int], ...], pl.DataFrame]] = {}
_latest_lock = threading.Lock()


def latest_audit(settings: Settings, table: str) -> pl.DataFrame:
    """The audit rows of the latest run of every partition of ``table`` (empty if none).

    A run writes audit files of its own and never changes one, so the rows are kept in this
    process and read again only when the table's files are not the same ones (by name, size
    and modification time): the ingest, its two checks and the night's summary ask for the
    same audit, and on an ICB each read of a GP table's thousands of files costs a second."""
    directory = audit_dir(settings, table)
    files = zones.zone_files(directory)
    stamp = tuple((f, st.st_size, st.st_mtime_ns) for f in files for st in [os.stat(f)])
    with _latest_lock:
        kept = _latest.get(directory)
        if kept is not None and kept[0] == stamp:
            return kept[1]
    audit = zones.read_zone(directory)
    if not audit.is_empty():
        audit = audit.filter(
            pl.col("finished_at") == pl.col("finished_at").max().over("extract_date")
        )
    with _latest_lock:
        _latest[directory] = (stamp, audit)
    return audit


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


def file_outcome(f: LandedFile, quarantined: int) -> tuple[str, str | None]:
    """A file's outcome in the audit, and its message: why it was not loaded whole, the
    unknown columns it had, and how it was identified when not by its expected name."""
    if f.problem and f.problem.check == "duplicate_file":
        outcome, message = "duplicate", f.problem.message
    elif f.problem and not f.rows_read:
        outcome, message = "rejected", f.problem.message
    elif f.problem:
        outcome, message = "quarantined", f.problem.message
    else:
        outcome = "loaded" if quarantined == 0 else "partial"
        message = None
    if f.extra_columns:
        extra = f"unknown extra column(s) ignored: {', '.join(f.extra_columns)}"
        message = f"{message}; {extra}" if message else extra
    if f.note:  # read under another name than the expected one (ingest/landing.py)
        message = f"{f.note}; {message}" if message else f.note
    return outcome, message


def audit_rows(
    table: str,
    landed: list[LandedFile],
    good: pl.DataFrame,
    quarantine: pl.DataFrame,
    run_id: str,
    started: dt.datetime,
    finished: dt.datetime,
) -> pl.DataFrame:
    """One audit row per landed file of a partition: rows read, loaded (in ``good``) and
    quarantined (distinct lines in ``quarantine``), its outcome and message."""
    loaded_by_file = dict(good.group_by("_source_file").len().iter_rows())
    quarantined_by_file = dict(
        quarantine.group_by("_source_file").agg(pl.col("_row_number").n_unique()).iter_rows()
    )
    rows = []
    for f in landed:
        quarantined = quarantined_by_file.get(f.name, 0)
        outcome, message = file_outcome(f, quarantined)
        rows.append(
            {
                "table": table,
                "source_file": f.name,
                "sha256": f.sha256,
                "encoding": f.encoding,
                "rows_read": f.rows_read,
                "rows_loaded": loaded_by_file.get(f.name, 0),
                "rows_quarantined": quarantined,
                "outcome": outcome,
                "message": message,
                "run_id": run_id,
                "started_at": started,
                "finished_at": finished,
            }
        )
    # Messages quote landed headers, which in a headerless file are the first row's values.
    return pl.DataFrame(rows, schema=AUDIT_SCHEMA).with_columns(
        withhold_identifiers(pl.col("message"))
    )


def append_audit(
    settings: Settings,
    table: str,
    extract_date: dt.date,
    audit: pl.DataFrame,
    run_id: str,
    finished: dt.datetime,
) -> None:
    """Add one run's audit rows to a partition's audit, as a file of its own named by the
    run's finishing time and id: the audit keeps every run."""
    zones.append_to_partition(
        audit_dir(settings, table),
        extract_date,
        audit,
        f"run-{finished:%Y%m%dT%H%M%S%f}-{run_id[:8]}.parquet",
    )

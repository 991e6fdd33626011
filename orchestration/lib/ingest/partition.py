"""Landing → raw zone for one extract type and one extract date (a partition), end to end.

The order matters for "nothing leaked": rows are read as strings, checked against the file
contract and the pandera schema, and identifiers are pseudonymised *before* anything is written;
failure values of identifier columns are replaced by the pseudonym. Every row read ends up in
exactly one of the raw zone or the quarantine, and the audit row per file says how many.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice

from orchestration.lib import faults, night, zones
from orchestration.lib.ingest.audit import (
    append_audit,
    audit_rows,
    loaded_files,
    previously_loaded,
)
from orchestration.lib.ingest.contract import LandedFile, mark_duplicates
from orchestration.lib.ingest.landing import files_for
from orchestration.lib.ingest.parse import read_landed_files
from orchestration.lib.ingest.rules import known_practice_codes
from orchestration.lib.ingest.validate import validate_batch
from orchestration.lib.settings import Settings
from schemas._base import ExtractSpec

# Partitions validated and written at once: one more than the 2 cores this is sized for, so
# that one partition's single-threaded stretches (Python, DuckDB set-up, file I/O) leave no core idle.
PARTITION_WORKERS = 3


@dataclass
class PartitionResult:
    """What one partition's load did: files, rows read, loaded and quarantined (by check)."""

    table: str
    extract_date: dt.date
    files: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    skipped: bool = False
    quarantine_by_check: dict[str, int] = field(default_factory=dict)

    @classmethod
    def skipped_partition(cls, table: str, extract_date: dt.date, files: int) -> PartitionResult:
        """A partition left as it was: its files are those of its last audited load."""
        return cls(
            table=table,
            extract_date=extract_date,
            files=files,
            rows_read=0,
            rows_loaded=0,
            rows_quarantined=0,
            skipped=True,
        )


def load_partition(
    settings: Settings,
    spec: ExtractSpec,
    extract_date: dt.date,
    landed: list[LandedFile],
    run_id: str,
    known_practices: set[str] | None,
    force: bool = False,
) -> PartitionResult:
    """Validate one partition's landed files together and write the raw zone, the quarantine
    and the audit, in that order. Skipped (nothing written) when the files are those of the
    partition's last audited load, unless ``force``."""
    started = dt.datetime.now()
    fingerprint = {(f.name, f.sha256) for f in landed}
    if not force and landed and fingerprint == previously_loaded(settings, spec, extract_date):
        return PartitionResult.skipped_partition(spec.table, extract_date, len(landed))

    good, quarantine = validate_batch(spec, landed, settings.pseudo_key, known_practices)
    # The audit row is what lets a rerun skip this partition, so it is written last: a kill
    # before it makes the next run load the partition again (each zone write replaces the
    # partition whole, so nothing is loaded twice).
    zones.replace_partition(settings.raw / spec.table, extract_date, good)
    faults.kill_point("ingest.after_partition_write")
    zones.replace_partition(settings.quarantine / spec.table, extract_date, quarantine)
    faults.kill_point("ingest.before_audit")

    finished = dt.datetime.now()
    audit = audit_rows(spec.table, landed, good, quarantine, run_id, started, finished)
    append_audit(settings, spec.table, extract_date, audit, run_id, finished)
    return PartitionResult(
        table=spec.table,
        extract_date=extract_date,
        files=len(landed),
        rows_read=int(audit["rows_read"].sum()),
        rows_loaded=good.height,
        rows_quarantined=int(audit["rows_quarantined"].sum()),
        quarantine_by_check=dict(quarantine.group_by("check").len().iter_rows()),
    )


def ingest_files(
    settings: Settings,
    spec: ExtractSpec,
    dates: Iterable[dt.date],
    run_id: str,
    force: bool = False,
) -> list[PartitionResult]:
    """Load every partition of ``spec`` for ``dates`` from the landing area, a few at once;
    one result per date, in the order of ``dates``."""
    dates = list(dates)
    # A partition whose files have the names, sizes and mtimes of its last audited load is
    # skipped without reading them (orchestration.lib.night); the rest are read, hashed and
    # loaded (or skipped by sha256) as before. What every changed partition needs is read once,
    # and only when one has changed.
    stamps = night.LandedStamps(settings, spec.table)
    lock = threading.Lock()
    shared: dict[str, object] = {}

    def needs() -> tuple[set[str] | None, dict[str, tuple[dt.date, str]]]:
        with lock:
            if not shared:
                shared["known"] = known_practice_codes(settings) if spec.practice_column else None
                shared["loaded"] = loaded_files(settings, spec)
        return shared["known"], shared["loaded"]  # type: ignore[return-value]

    def one(day: dt.date) -> tuple[PartitionResult, list]:
        entries = files_for(settings, spec, day)
        stats = night.file_stats(entries)
        if not force and stamps.unchanged(day, stats):
            return PartitionResult.skipped_partition(spec.table, day, len(entries)), stats
        known, loaded = needs()
        landed = read_landed_files(spec, entries)
        mark_duplicates(landed, day, loaded)
        return load_partition(settings, spec, day, landed, run_id, known, force=force), stats

    # Partitions are independent (each reads only its own audit and the pre-run `loaded`), and
    # most of a partition's time is spent in polars, numpy, hashlib and DuckDB, which release
    # the GIL; so PARTITION_WORKERS partitions are in flight at once to keep every core busy.
    # A window of that many, not the whole list: memory stays bounded, and after a failure at
    # most the ones already running finish before the error is raised.
    results: list[PartitionResult] = []
    try:
        with ThreadPoolExecutor(max_workers=PARTITION_WORKERS) as pool:
            pending: deque[Future[tuple[PartitionResult, list]]] = deque()
            upcoming = iter(dates)
            for day in islice(upcoming, PARTITION_WORKERS):
                pending.append(pool.submit(one, day))
            while pending:
                result, stats = pending.popleft().result()
                results.append(result)
                stamps.record(result.extract_date, stats)
                for day in islice(upcoming, 1):
                    pending.append(pool.submit(one, day))
    finally:
        stamps.save()
    return results

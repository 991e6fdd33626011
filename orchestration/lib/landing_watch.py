"""What is in the landing area, for the schedule, the sensor, `make pipeline` and the
landing_accounted check."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import zipfile

import polars as pl

from orchestration.lib import zones
from orchestration.lib.ingest import AUDIT_SCHEMA, audit_dir, withhold_identifiers
from orchestration.lib.ingest.landing import (
    DATE_DIR,
    DECOMPRESSION_ERRORS,
    UNRECOGNISED_TABLE,
    Inventory,
    LandedEntry,
    Unrecognised,
    date_folders,
    file_sources,
    inventory,
    sort_folder,
)
from orchestration.lib.settings import Settings

# A file still being copied changes size and mtime; one untouched for this long is complete.
STABLE_AFTER_SECONDS = 120


def landed_dates(settings: Settings) -> list[dt.date]:
    """Every extract date with files for at least one extract, oldest first (each folder
    sorted out once, for all of its source's extracts)."""
    return sorted(
        day
        for source in file_sources()
        for day, folder in date_folders(settings.landing, source)
        if sort_folder(settings.landing, source, folder, day).by_table
    )


def landing_fingerprints(
    settings: Settings, stable_after: float = STABLE_AFTER_SECONDS, now: float | None = None
) -> tuple[dict[str, str], list[str]]:
    """(fingerprint per extract date of its complete folders, dates still being written).

    The fingerprint covers every file's relative path, size and mtime, so a resent file or a
    late file changes it; a folder with any file younger than ``stable_after`` is not ready."""
    now = time.time() if now is None else now
    parts: dict[str, list[str]] = {}
    busy: set[str] = set()
    for source in sorted(file_sources()):
        root = settings.landing / source
        if not root.exists():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and DATE_DIR.match(p.name)):
            for f in sorted(p for p in folder.iterdir() if p.is_file()):
                st = f.stat()
                if now - st.st_mtime < stable_after:
                    busy.add(folder.name)
                parts.setdefault(folder.name, []).append(
                    f"{source}/{f.name}:{st.st_size}:{st.st_mtime_ns}"
                )
    ready = {
        d: hashlib.sha256("\n".join(v).encode()).hexdigest()[:16]
        for d, v in parts.items()
        if d not in busy
    }
    return ready, sorted(busy)


# ---------------------------------------------------------------------------------------------
# Files no extract recognises: recorded in the audit, once per (path, content)
# ---------------------------------------------------------------------------------------------


def withheld(texts: list[str]) -> list[str]:
    """``texts`` with NHS-number-like tokens withheld: a file's name is chosen by whoever
    saved it, and may carry one (a letter saved as the patient's number)."""
    if not texts:
        return []
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.Utf8})
    return frame.select(withhold_identifiers(pl.col("text"))).to_series().to_list()


def _sha256(entry: LandedEntry) -> str:
    """Of the file as it lies in the landing area (a zip member: its content), read in chunks:
    an unrecognised file may be anything, of any size."""
    digest = hashlib.sha256()
    if entry.member is not None:
        try:
            with zipfile.ZipFile(entry.path) as archive, archive.open(entry.member) as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
            return digest.hexdigest()
        except DECOMPRESSION_ERRORS:
            digest = hashlib.sha256()  # a damaged member: the archive's bytes identify it
    with open(entry.path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def record_unrecognised(
    settings: Settings, found: list[Unrecognised], run_id: str, today: dt.date | None = None
) -> int:
    """Write an audit row (table ``_unrecognised``, outcome ``unrecognised``, the reason in
    ``message``) for each file in ``found`` not recorded before with the same content: a file
    left in place is recorded once, not every night. The row goes in the partition of the
    file's extract-date folder, or of ``today`` (the run's date) for a file outside one, so
    ``audit.loads`` in the warehouse lists it with every other file. Returns the rows written."""
    if not found:
        return 0
    today = today or dt.date.today()
    table_dir = audit_dir(settings, UNRECOGNISED_TABLE)
    started = dt.datetime.now()
    rows = pl.DataFrame(
        {
            "table": UNRECOGNISED_TABLE,
            "source_file": withheld([u.where for u in found]),
            "sha256": [_sha256(u.entry) for u in found],
            "encoding": "n/a",
            "rows_read": 0,
            "rows_loaded": 0,
            "rows_quarantined": 0,
            "outcome": "unrecognised",
            "message": withheld([u.reason for u in found]),
            "run_id": run_id,
            "started_at": started,
            "finished_at": dt.datetime.now(),
            "_day": [u.extract_date or today for u in found],
        }
    ).cast({**AUDIT_SCHEMA, "_day": pl.Date})
    seen = zones.read_zone(table_dir)
    if not seen.is_empty():
        rows = rows.join(
            seen.select("source_file", "sha256"), on=["source_file", "sha256"], how="anti"
        )
    rows = rows.unique(["source_file", "sha256"], keep="first", maintain_order=True)
    finished = dt.datetime.now()
    for (day,), part in rows.group_by("_day", maintain_order=True):
        zones.append_to_partition(
            table_dir,
            day,
            part.drop("_day").select(list(AUDIT_SCHEMA)),
            f"run-{finished:%Y%m%dT%H%M%S%f}-{run_id[:8]}.parquet",
        )
    return rows.height


def account_for_landing(settings: Settings, run_id: str) -> tuple[Inventory, int]:
    """Every file in the landing area sorted out, and the unrecognised ones recorded (the
    audit rows written this time)."""
    found = inventory(settings.landing)
    return found, record_unrecognised(settings, found.unrecognised, run_id)

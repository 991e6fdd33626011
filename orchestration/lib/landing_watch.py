"""What is in the landing area, for the schedule, the sensor and `make pipeline`."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from orchestration.lib.ingest import DATE_DIR, landing_dates
from orchestration.lib.settings import Settings
from schemas import EXTRACTS

# A file still being copied changes size and mtime; one untouched for this long is complete.
STABLE_AFTER_SECONDS = 120


def file_sources() -> set[str]:
    return {spec.source for spec in EXTRACTS.values() if not spec.table.startswith("cms_")}


def landed_dates(settings: Settings) -> list[dt.date]:
    """Every extract date with files for at least one extract, oldest first."""
    return sorted({d for spec in EXTRACTS.values() for d in landing_dates(settings, spec)})


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

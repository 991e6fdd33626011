"""Sources that could not be reached in a run even after every retry.

A source database that stays down all night must not cost the ICB every other mart: its ingest
step records the outage here and ends, the dbt step leaves only what depends on that source
unbuilt (yesterday's tables stay), and a failed ``source_reached`` check tells on-call. The
record holds the exception's type and the transient marker it matched, never its message: a
database error can quote a connection URL with its password.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.lib.settings import Settings


def _path(settings: Settings, run_id: str) -> Path:
    return settings.data_dir / "audit" / "outages" / f"{run_id}.json"


def record(settings: Settings, run_id: str, tables: list[str], reason: str) -> None:
    path = _path(settings, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    current = for_run(settings, run_id)
    current.update(dict.fromkeys(tables, reason))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True))
    tmp.replace(path)


def for_run(settings: Settings, run_id: str) -> dict[str, str]:
    """Raw tables whose source was unreachable in run ``run_id``, with the reason."""
    path = _path(settings, run_id)
    return json.loads(path.read_text()) if path.exists() else {}

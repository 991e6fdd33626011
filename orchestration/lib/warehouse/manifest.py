"""dbt's ``manifest.json``, read once per version of the file.

Loading the code location asks the manifest several questions (which marts are published, their
asset keys, the disclosure checks on them); each used to parse the whole file again. The cache
is keyed on the file's path, modification time and size, so a ``dbt parse`` between two reads
is seen. Callers get the same dict and must not change it."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any


def read_manifest(path: Path) -> dict[str, Any]:
    """The parsed manifest at ``path`` (shared: read, never modify)."""
    stat = path.stat()
    return _parse(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _parse(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    del mtime_ns, size  # the cache key: a rewritten file is read again
    return json.loads(Path(path).read_text())

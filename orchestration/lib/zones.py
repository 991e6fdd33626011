"""The Parquet zones (raw, quarantine, audit), Hive-partitioned by extract date.

Crash safety rests on two rules. A file is written in a staging folder that no reader's glob
reaches (``<data>/.staging`` for raw and quarantine, ``<data>/audit/.staging`` for the audit;
readers glob ``<zone>/<table>/*/*.parquet``, and DuckDB's glob matches hidden names too), then
renamed into place: a rename on one filesystem is atomic, so a reader sees the old file or the
new one, never half of one. And a partition is one file replaced in place (``os.replace``),
never a directory renamed away and back, so there is no moment with no partition at all.

Each writer stages in its own folder named after its host and process id; the next run
removes the folders of processes that no longer exist (``clear_dead_writers``).
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import shutil
import socket
import uuid
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from orchestration.lib import faults

log = logging.getLogger(__name__)
STAGING = ".staging"
_HOST = socket.gethostname()


class ZoneWriteError(RuntimeError):
    """A partition could not be written for lack of space (the zone is left as it was)."""


def partition_dir(zone_table_dir: Path, extract_date: dt.date) -> Path:
    return zone_table_dir / f"extract_date={extract_date.isoformat()}"


def staging_root(zone_table_dir: Path) -> Path:
    """Where writes to ``zone_table_dir`` are staged: two levels up, beside the zone, on the
    same filesystem (so the final rename is atomic) and outside every reader's glob."""
    return zone_table_dir.parent.parent / STAGING


def writer_token() -> str:
    """A name part that says which process wrote a temporary file: host, process id, and a
    random part. ``is_dead_writer`` reads it back."""
    return f"{_HOST}-{os.getpid()}-{uuid.uuid4().hex}"


def is_dead_writer(token: str, age_s: float) -> bool:
    """Whether the writer named by ``token`` (from ``writer_token``) is gone: a process of this
    host that no longer exists; another host's (a shared data folder, which cannot be asked)
    once its file is a day old (``age_s``). Names of an older layout count as dead."""
    host, _, pid = token.rsplit("-", 1)[0].rpartition("-")
    if not pid.isdigit():
        return True
    if host == _HOST:
        return not _process_alive(int(pid))
    return age_s > 86_400


def _writer_dir(zone_table_dir: Path) -> Path:
    folder = staging_root(zone_table_dir) / writer_token()
    folder.mkdir(parents=True)
    return folder


def _write(frame: pl.DataFrame, path: Path, what: str) -> None:
    """Write ``frame`` to ``path`` and flush it to disk; a full disk is named as such."""
    try:
        faults.disk_full_point("zones.write", path)
        frame.write_parquet(path, compression="uncompressed", statistics=True)
        with open(path, "rb") as f:
            os.fsync(f.fileno())  # the rename must not reach the disk before the data does
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise ZoneWriteError(f"disk full while writing {what}; the zone is unchanged") from exc
        raise
    except pl.exceptions.PolarsError as exc:  # polars reports I/O errors in its own types
        if "No space left" in str(exc):
            raise ZoneWriteError(f"disk full while writing {what}; the zone is unchanged") from exc
        raise


def _move_into_place(staged: Path, zone_table_dir: Path, extract_date: dt.date) -> Path:
    """Rename the staged file into its partition, atomically, creating the partition folder by
    renaming a staged one when it does not exist yet (so it never appears empty)."""
    target = partition_dir(zone_table_dir, extract_date)
    final = target / staged.name
    if not target.exists():
        zone_table_dir.mkdir(parents=True, exist_ok=True)
        folder = staged.parent / target.name
        folder.mkdir()
        os.replace(staged, folder / staged.name)
        try:
            os.rename(folder, target)
            return final
        except OSError as exc:  # another writer created it meanwhile: replace the file instead
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            staged = folder / staged.name
    os.replace(staged, final)
    return final


def replace_partition(
    zone_table_dir: Path,
    extract_date: dt.date,
    frame: pl.DataFrame,
    filename: str = "part-0.parquet",
) -> Path:
    """Make ``frame`` the whole content of one partition, in one atomic step. Uncompressed:
    the zones are a working store, not an archive (docs/architecture.md gives the figures)."""
    what = f"{zone_table_dir.parent.name}/{zone_table_dir.name} partition {extract_date}"
    stage = _writer_dir(zone_table_dir)
    try:
        _write(frame, stage / filename, what)
        final = _move_into_place(stage / filename, zone_table_dir, extract_date)
        # A partition is one file; anything else there is an older layout's leftover.
        for other in final.parent.iterdir():
            if other != final:
                _remove(other)
        return final
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def append_to_partition(
    zone_table_dir: Path, extract_date: dt.date, frame: pl.DataFrame, filename: str
) -> Path:
    """Add one file to a partition (audit history: one file per run), atomically."""
    what = f"{zone_table_dir.parent.name}/{zone_table_dir.name} partition {extract_date}"
    stage = _writer_dir(zone_table_dir)
    try:
        _write(frame, stage / filename, what)
        return _move_into_place(stage / filename, zone_table_dir, extract_date)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_dead_writers(zone_roots: list[Path], legacy: bool = True) -> list[Path]:
    """Remove what writers that died left behind: their staging folders (this host's, whose
    process is gone) and the in-place temporary folders and files of the layout before staging
    (``.tmp-*``, ``.old-*`` inside a table or partition folder; ``legacy``, as that walks
    every partition). Returns what was removed, each also logged at INFO. ``zone_roots``: the
    raw, quarantine and audit zone folders."""
    removed: list[Path] = []
    for staging in sorted({staging_root(root / "table") for root in zone_roots}):
        if not staging.exists():
            continue
        for folder in sorted(staging.iterdir()):
            age = dt.datetime.now().timestamp() - folder.stat().st_mtime
            if is_dead_writer(folder.name, age):
                _remove(folder)
                removed.append(folder)
    for root in zone_roots if legacy else []:
        # The layout before staging wrote .tmp-* and .old-* folders beside the partitions and
        # .tmp-*.parquet files inside them; only a dead writer leaves them now.
        for pattern in ("*/.tmp-*", "*/.old-*", "*/*/.tmp-*"):
            for leftover in sorted(root.glob(pattern)) if root.exists() else []:
                _remove(leftover)
                removed.append(leftover)
    for path in removed:
        log.info("removed a dead writer's leftover: %s", path)
    return removed


def read_zone(zone_table_dir: Path) -> pl.DataFrame:
    """Read every partition of a zone table, with its ``extract_date`` (empty frame if none)."""
    files = zone_files(zone_table_dir)
    if not files:
        return pl.DataFrame()
    with duckdb.connect() as con:
        return con.sql(
            "select * from read_parquet($files, hive_partitioning = true, union_by_name = true)",
            params={"files": files},
        ).pl()


def zone_files(zone_table_dir: Path) -> list[str]:
    """Every partition file of a zone table, in a stable order."""
    if not zone_table_dir.exists():
        return []
    return [str(f) for f in sorted(zone_table_dir.glob("extract_date=*/*.parquet"))]


def row_count(zone_table_dir: Path) -> int:
    """Rows in a zone table, from the Parquet footers: nothing is read but metadata."""
    files = zone_files(zone_table_dir)
    if not files:
        return 0
    with duckdb.connect() as con:
        return con.execute(
            "select coalesce(sum(row_group_num_rows), 0) from (select distinct file_name, row_group_id, "
            "row_group_num_rows from parquet_metadata($files))",
            {"files": files},
        ).fetchall()[0][0]


def distinct_rows(zone_table_dir: Path, columns: tuple[str, ...]) -> int:
    """Distinct values of ``columns`` (fixed identifiers from the caller, never data)."""
    files = zone_files(zone_table_dir)
    if not files:
        return 0
    cols = ", ".join(columns)
    with duckdb.connect() as con:
        return con.execute(
            f"select count(*) from (select distinct {cols} from read_parquet($files, hive_partitioning = true))",
            {"files": files},
        ).fetchall()[0][0]


def max_value(zone_table_dir: Path, column: str) -> Any:
    """Largest value of one column across a zone table, or None."""
    files = zone_files(zone_table_dir)
    if not files:
        return None
    with duckdb.connect() as con:
        return con.execute(
            f"select max({column}) from read_parquet($files, union_by_name = true)",
            {"files": files},
        ).fetchall()[0][0]

"""Each audience's published marts as Parquet, one file per mart, in a new directory per run that
a ``parquet`` symlink is swapped to (a symlink is the one directory entry that can be atomically
replaced when the target is a non-empty directory)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

import pyarrow as pa

from orchestration.lib import faults, zones
from orchestration.lib.publish.disclosure import read_marts
from orchestration.lib.publish.marts import (
    PARQUET_LINK,
    PUBLICATION_TABLE,
    Mart,
    clear_dead_writers,
    per_audience,
    publication_row,
    with_run_id,
)
from orchestration.lib.settings import Settings


def publish_parquet(
    settings: Settings, marts: list[Mart], run_id: str, tables: dict[str, pa.Table] | None = None
) -> dict[str, int]:
    """One Parquet file per mart (plus ``_publication.parquet``) in a new directory per
    audience, then that audience's ``parquet`` symlink is atomically replaced to point at it.
    Readers resolve the link when they open a file, so they read one version throughout; the
    previous version is kept (a reader may still be listing it) and older ones removed."""
    read = tables if tables is not None else read_marts(settings, marts)
    return per_audience(
        settings, marts, lambda folder, mine: _publish_parquet_folder(folder, mine, run_id, read)
    )


def _publish_parquet_folder(
    published: Path, marts: list[Mart], run_id: str, tables: dict[str, pa.Table]
) -> dict[str, int]:
    import pyarrow.parquet as pq  # only needed here

    published.mkdir(parents=True, exist_ok=True)
    clear_dead_writers(published)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    version = f".parquet-{stamp}-{uuid.uuid4().hex[:8]}"
    building = published / f"{version}~{zones.writer_token()}.tmp"
    building.mkdir()
    counts: dict[str, int] = {}
    try:
        for mart in marts:
            incoming = with_run_id(tables[mart.name], run_id)
            pq.write_table(incoming, building / f"{mart.name}.parquet")
            counts[mart.name] = incoming.num_rows
        pq.write_table(publication_row(run_id, counts), building / f"{PUBLICATION_TABLE}.parquet")
        faults.kill_point("publish.mid_write")
        os.rename(building, published / version)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    link = published / PARQUET_LINK
    if link.exists() and not link.is_symlink():
        # An older layout had a real directory here: move it aside once.
        os.rename(link, published / f".parquet-legacy-{stamp}")
    tmp_link = published / f".{PARQUET_LINK}~{zones.writer_token()}.tmp"
    os.symlink(version, tmp_link)  # relative: the published folder can be moved or mounted
    os.replace(tmp_link, link)
    _prune_parquet_versions(published, keep={version, os.readlink(link)})
    return counts


def _prune_parquet_versions(published: Path, keep: set[str]) -> None:
    versions = sorted(
        p for p in published.glob(".parquet-*") if p.is_dir() and not p.name.endswith(".tmp")
    )
    # Keep the newest two whatever happens: a reader that resolved the link just before the swap
    # may still be reading the previous one.
    for old in versions[:-2]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)

"""Each audience's published marts as a DuckDB file, built beside the old one and swapped in with
``os.replace``: a reader holding the old file keeps a consistent snapshot, a new reader gets the
new one, nobody sees half a file. Written in DuckDB's v1.4.0 storage format because many BI
drivers still bundle an older DuckDB that cannot open 2.0 files."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib import faults, zones
from orchestration.lib.publish.disclosure import disclosure_problems, read_marts
from orchestration.lib.publish.marts import (
    PUBLICATION_TABLE,
    PUBLISHED_FILE,
    STORAGE_VERSION,
    DisclosureError,
    Mart,
    clear_dead_writers,
    literal,
    per_audience,
    publication_row,
    quote,
    with_run_id,
)
from orchestration.lib.settings import Settings


def publish_duckdb(
    settings: Settings, marts: list[Mart], run_id: str, tables: dict[str, pa.Table] | None = None
) -> dict[str, int]:
    """Write each audience's published marts to a new DuckDB file of its own and swap it in
    atomically (an audience with no mart in ``marts`` keeps its file as it is)."""
    read = tables if tables is not None else read_marts(settings, marts)
    return per_audience(
        settings, marts, lambda folder, mine: _publish_duckdb_file(folder, mine, run_id, read)
    )


def _publish_duckdb_file(
    folder: Path, marts: list[Mart], run_id: str, tables: dict[str, pa.Table]
) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / PUBLISHED_FILE
    clear_dead_writers(folder)
    tmp = folder / f".{PUBLISHED_FILE}~{zones.writer_token()}.tmp"
    counts: dict[str, int] = {}
    dst = duckdb.connect(str(tmp), config={"storage_compatibility_version": STORAGE_VERSION})
    try:
        for mart in marts:
            incoming = with_run_id(tables[mart.name], run_id)
            dst.register("incoming", incoming)
            dst.execute(f"create table {quote(mart.name)} as select * from incoming")
            dst.unregister("incoming")
            if mart.description:
                dst.execute(f"comment on table {quote(mart.name)} is {literal(mart.description)}")
            for column, description in mart.columns.items():
                if description:
                    dst.execute(
                        f"comment on column {quote(mart.name)}.{quote(column)} "
                        f"is {literal(description)}"
                    )
            counts[mart.name] = incoming.num_rows
        # The same check once more on the file itself, which is what readers will open.
        problems = disclosure_problems(dst, marts)
        if problems:
            raise DisclosureError("refusing to publish:\n  " + "\n  ".join(problems))
        dst.register("runs", publication_row(run_id, counts))
        dst.execute(f"create table {PUBLICATION_TABLE} as select * from runs")
        dst.execute("checkpoint")
    except BaseException:
        dst.close()
        tmp.unlink(missing_ok=True)
        raise
    dst.close()
    faults.kill_point("publish.mid_write")
    os.replace(tmp, final)
    return counts

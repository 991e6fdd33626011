"""Publish aggregate marts to a separate DuckDB file that readers (analysts, BI tools) open,
so they never hold a lock on the warehouse. The new file is built beside the old one and
swapped in with ``os.replace``: a reader holding the old file keeps a consistent snapshot, a
new reader gets the new one, nobody sees half a file.

The file is written in DuckDB's v1.4.0 storage format because many BI drivers still bundle an
older DuckDB that cannot open 2.0 files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from orchestration.lib.settings import DBT_PROJECT_DIR, Settings

PUBLISHED_FILE = "marts.duckdb"
STORAGE_VERSION = "v1.4.0"


@dataclass(frozen=True)
class Mart:
    name: str
    schema: str
    description: str


def publishable_marts(
    manifest_path: Path = DBT_PROJECT_DIR / "target" / "manifest.json",
) -> list[Mart]:
    """Models under ``models/marts`` that are not tagged ``patient_level``: patient-level rows
    are never published."""
    manifest = json.loads(manifest_path.read_text())
    marts = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["fqn"][1] != "marts":
            continue
        if "patient_level" in node.get("tags", []):
            continue
        marts.append(
            Mart(node.get("alias") or node["name"], node["schema"], node.get("description", ""))
        )
    return sorted(marts, key=lambda m: m.name)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def publish_duckdb(settings: Settings, marts: list[Mart], run_id: str) -> dict[str, int]:
    settings.published.mkdir(parents=True, exist_ok=True)
    final = settings.published / PUBLISHED_FILE
    tmp = settings.published / f".{PUBLISHED_FILE}.{uuid.uuid4().hex}.tmp"
    counts: dict[str, int] = {}
    src = duckdb.connect(str(settings.warehouse), read_only=True)
    dst = duckdb.connect(str(tmp), config={"storage_compatibility_version": STORAGE_VERSION})
    try:
        published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for mart in marts:
            # Identifiers come from the dbt manifest, not from data; values are never formatted in.
            table = src.sql(
                f"select * from {_quote(mart.schema)}.{_quote(mart.name)}"
            ).to_arrow_table()
            dst.register("incoming", table)
            dst.execute(f"create table {_quote(mart.name)} as select * from incoming")
            dst.unregister("incoming")
            if mart.description:
                dst.execute(
                    f"comment on table {_quote(mart.name)} is $$"
                    + mart.description.replace("$$", "")
                    + "$$"
                )
            counts[mart.name] = table.num_rows
        runs = pl.DataFrame(
            {"run_id": [run_id], "published_at": [published_at], "tables": [json.dumps(counts)]}
        )
        dst.register("runs", runs.to_arrow())
        dst.execute("create table _publication as select * from runs")
        dst.execute("checkpoint")
    finally:
        src.close()
        dst.close()
    os.replace(tmp, final)
    return counts

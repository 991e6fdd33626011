"""The published marts: what is published (models under ``models/published``, each for one
audience), where each audience's outputs live, reading them from the warehouse (after the
disclosure check) and what every output carries to name its publication run."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from orchestration.lib import engines, zones
from orchestration.lib.settings import DBT_PROJECT_DIR, Settings
from orchestration.lib.warehouse.manifest import read_manifest

log = logging.getLogger(__name__)

PUBLISHED_FILE = "marts.duckdb"
PARQUET_LINK = "parquet"
STORAGE_VERSION = "v1.4.0"
RUN_ID_COLUMN = "publication_run_id"
PUBLICATION_TABLE = "_publication"
PUBLISHED_FOLDER = "published"  # models/published in the dbt project
PUBLIC, INTERNAL = "public", "internal"
AUDIENCES = (PUBLIC, INTERNAL)
# Where each audience's file and Parquet link live under the published folder. The public ones
# stay where they always were (data/published/marts.duckdb), so existing readers keep working.
AUDIENCE_SUBDIR = {PUBLIC: "", INTERNAL: "internal"}


class DisclosureError(RuntimeError):
    """A table about to be published could disclose a person; the message lists why."""


@dataclass(frozen=True)
class Mart:
    name: str
    schema: str
    description: str
    columns: dict[str, str] = field(default_factory=dict)  # name -> description
    not_counts: frozenset[str] = frozenset()  # integer columns declared not to be counts
    # Columns declared (meta.disclosure.derived_from) to come from counts on the row: rates,
    # means, flags and secondary counts, which must be null wherever one of those is null.
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Date columns declared (meta.disclosure: period_boundary) to be fixed period ends such as a
    # census date, not event dates: they may be other than the first of a month.
    period_boundaries: frozenset[str] = frozenset()
    # The model's meta.disclosure: the count that drives suppression and the secondary-
    # suppression groups ({'where': sql, 'partition': [sql]}, project text from the manifest).
    primary_count: str | None = None
    groups: tuple[dict, ...] = ()
    # Who may read it (meta.audience): public (disclosure control) or internal (exact counts).
    audience: str = PUBLIC
    # Why it may be empty (meta.empty_until), e.g. until the data covers a whole 12-month
    # window: a short history publishes no row rather than an incomplete one.
    empty_until: str | None = None


def audience_dir(published: Path, audience: str) -> Path:
    """The folder holding an audience's ``marts.duckdb`` and ``parquet`` link."""
    sub = AUDIENCE_SUBDIR[audience]
    return published / sub if sub else published


def publishable_marts(
    manifest_path: Path = DBT_PROJECT_DIR / "target" / "manifest.json",
) -> list[Mart]:
    """Models under ``models/published``: aggregates under disclosure control. A model there
    tagged ``patient_level`` is refused outright rather than skipped, because it means someone
    put patient rows in the layer that leaves the warehouse."""
    manifest = read_manifest(manifest_path)
    marts = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["fqn"][1] != PUBLISHED_FOLDER:
            continue
        if "patient_level" in node.get("tags", []):
            raise DisclosureError(f"{node['name']} is tagged patient_level in the published layer")
        columns = {c["name"]: c.get("description", "") for c in node["columns"].values()}
        declared = {
            c["name"]: (c.get("meta") or {}).get("disclosure") for c in node["columns"].values()
        }
        not_counts = frozenset(c for c, d in declared.items() if d == "not_a_count")
        period_boundaries = frozenset(c for c, d in declared.items() if d == "period_boundary")
        derived = {
            c: tuple(d["derived_from"])
            for c, d in declared.items()
            if isinstance(d, dict) and d.get("derived_from")
        }
        meta = node.get("config", {}).get("meta") or {}
        disclosure = meta.get("disclosure") or {}
        audience = meta.get("audience", PUBLIC)
        if audience not in AUDIENCES:
            # A typo must not publish exact counts anywhere, nor drop a table silently.
            raise DisclosureError(f"{node['name']}: meta.audience {audience!r} not in {AUDIENCES}")
        marts.append(
            Mart(
                node.get("alias") or node["name"],
                node["schema"],
                node.get("description", ""),
                columns,
                not_counts=not_counts,
                derived=derived,
                period_boundaries=period_boundaries,
                primary_count=disclosure.get("primary_count"),
                groups=tuple(disclosure.get("groups", [])),
                audience=audience,
                empty_until=meta.get("empty_until"),
            )
        )
    return sorted(marts, key=lambda m: m.name)


def quote(identifier: str) -> str:
    """A SQL identifier, double-quoted. Identifiers come from the dbt manifest, never from data."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal for COMMENT ON, which takes no bind parameters. Only used for dbt
    descriptions (project text), never for data values."""
    return "'" + text.replace("'", "''") + "'"


def built_marts(settings: Settings, marts: list[Mart]) -> list[Mart]:
    """The published models the warehouse holds. One never built (its sources have not landed
    yet, e.g. a landing area with only workforce returns) has nothing to publish; one left out
    of tonight's build keeps its last build and is published as that."""
    if settings.dbt_target == "duckdb" and not settings.warehouse.exists():
        return []
    with engines.open_warehouse(settings, [(m.schema, m.name) for m in marts]) as con:
        present = {
            (schema, name)
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
    return [m for m in marts if (m.schema, m.name) in present]


def with_run_id(table: pa.Table, run_id: str) -> pa.Table:
    return table.append_column(RUN_ID_COLUMN, pa.array([run_id] * table.num_rows, pa.string()))


def publication_row(run_id: str, counts: dict[str, int]) -> pa.Table:
    return pa.table(
        {
            "run_id": [run_id],
            "published_at": [dt.datetime.now(dt.UTC).replace(tzinfo=None)],
            "tables": [json.dumps(counts)],
        }
    )


def per_audience(
    settings: Settings,
    marts: list[Mart],
    write: Callable[[Path, list[Mart]], dict[str, int]],
) -> dict[str, int]:
    """``write(folder, marts)`` once per audience holding a mart in ``marts``, into that
    audience's folder (an audience with none keeps what it has)."""
    counts: dict[str, int] = {}
    for audience in AUDIENCES:
        mine = [m for m in marts if m.audience == audience]
        if mine:
            counts |= write(audience_dir(settings.published, audience), mine)
    return counts


def clear_dead_writers(published: Path) -> list[Path]:
    """Remove the half-written files and folders of publishers that died (``*.tmp`` named
    after a process that no longer exists); readers never open them, but they take space."""
    removed = []
    for leftover in sorted(published.glob(".*.tmp")) if published.exists() else []:
        token = leftover.name.removesuffix(".tmp").rpartition("~")[2]
        age = dt.datetime.now().timestamp() - leftover.lstat().st_mtime
        if zones.is_dead_writer(token, age):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            log.info("removed a dead publisher's leftover: %s", leftover)
            removed.append(leftover)
    return removed

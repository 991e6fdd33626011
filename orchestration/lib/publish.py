"""Publish the ``published`` dbt layer (aggregate marts under disclosure control) to the places
readers connect to, so they never hold a lock on the warehouse:

* a DuckDB file, built beside the old one and swapped in with ``os.replace``: a reader holding
  the old file keeps a consistent snapshot, a new reader gets the new one, nobody sees half a
  file. It is written in DuckDB's v1.4.0 storage format because many BI drivers still bundle an
  older DuckDB that cannot open 2.0 files;
* Parquet, one file per mart, in a new directory per run that a ``parquet`` symlink is swapped
  to (a symlink is the one directory entry that can be atomically replaced when the target is a
  non-empty directory);
* PostgreSQL, when configured (``orchestration/lib/publish_postgres.py``).

Every table gets a ``publication_run_id`` column and the file a ``_publication`` table naming
the run, so a reader can tell that what it read belongs to one publication.

Two audiences, each with its own file, Parquet folder and PostgreSQL schema: ``public`` (the
default; disclosure control applied) and ``internal`` (the ICB's own analysts and QI leads:
exact aggregate counts). A published model says which with ``config(meta={'audience': ...})``
(``models/published/internal/`` sets it for its folder in dbt_project.yml).

Before anything is swapped in, :func:`disclosure_problems` checks every table: no patient-level
column in either audience, and in ``public`` no count a reader could see that is 1-7 or not
rounded to 5.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib import engines, faults, zones
from orchestration.lib.settings import DBT_PROJECT_DIR, Settings

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

# Columns that would make a table patient-level (or re-identifying) whatever its tags say:
# person and record identifiers, birth dates, small-area and address codes.
PATIENT_LEVEL_COLUMN = re.compile(
    r"(^|_)(person_id|patient_id|pseudonym|nhs_number|nhs_no|episode_id|referral_id|"
    r"birth|dob|lsoa|msoa|postcode|post_code|address)(_|$)",
    re.IGNORECASE,
)
DATE_TYPES = {"DATE"}
TIMESTAMP_PREFIXES = ("TIMESTAMP", "TIME", "DATETIME")
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT"}
INTEGER_TYPES |= {"UINTEGER", "UBIGINT", "INT", "INT4", "INT8", "INT2"}


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
    manifest = json.loads(manifest_path.read_text())
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


def disclosure_problems(
    con: duckdb.DuckDBPyConnection, marts: list[Mart], schema: str | None = None
) -> list[str]:
    """Why these tables must not be published (empty when they may be).

    Every audience:

    * no column whose name marks patient-level data (person, episode or referral ids, NHS
      number, birth dates, LSOA, postcode, ...);
    * no day-level dates: every date is the first of a month unless the column is declared a
      period boundary (``meta.disclosure: period_boundary``, e.g. a census date), and no
      timestamps at all.

    The ``public`` audience also (``internal`` holds exact counts by design):

    * rates, means, flags and secondary counts (``meta.disclosure.derived_from``) are null on
      every row where a count they derive from is suppressed (null);
    * every table says what disclosure control did (``disclosure_status``);
    * on every row not marked ``exempt``, every integer column not declared ``not_a_count`` is
      null, 0 or a multiple of 5 of at least 10: a 1-7 would be an unsuppressed small count, and
      anything else an unrounded one;
    * secondary suppression held: no group (a total and its parts, from the model's
      ``meta.disclosure.groups``) has exactly one suppressed (null) primary count, which a reader
      could recover from the others.
    """
    problems: list[str] = []
    for mart in marts:
        table = f"{quote(schema)}.{quote(mart.name)}" if schema else quote(mart.name)
        described = con.sql(f"describe {table}").fetchall()
        types = {row[0]: row[1].upper() for row in described}
        for column, dtype in types.items():
            if PATIENT_LEVEL_COLUMN.search(column):
                problems.append(f"{mart.name}.{column}: patient-level column")
            elif dtype.startswith(TIMESTAMP_PREFIXES):
                problems.append(f"{mart.name}.{column}: timestamp column (day-level or finer)")
            elif dtype in DATE_TYPES and column not in mart.period_boundaries:
                c = quote(column)
                (day_level,) = con.sql(
                    f"select count(*) from {table} where {c} is not null "
                    f"and extract(day from {c}) <> 1"
                ).fetchall()[0]
                if day_level:
                    problems.append(
                        f"{mart.name}.{column}: {day_level} day-level date(s) "
                        "(not the first of a month, and not declared a period boundary)"
                    )
        if mart.audience != PUBLIC:
            continue
        for column, sources in mart.derived.items():
            missing = [c for c in (column, *sources) if c not in types]
            if missing:
                problems.append(f"{mart.name}.{column}: derived_from names no column {missing}")
                continue
            hidden = " or ".join(f"{quote(c)} is null" for c in sources)
            (shown,) = con.sql(
                f"select count(*) from {table} where {quote(column)} is not null and ({hidden})"
            ).fetchall()[0]
            if shown:
                problems.append(
                    f"{mart.name}.{column}: {shown} value(s) shown where a count it derives "
                    f"from ({', '.join(sources)}) is suppressed"
                )
        if "disclosure_status" not in types:
            problems.append(f"{mart.name}: no disclosure_status column")
            continue
        for column, dtype in types.items():
            if dtype not in INTEGER_TYPES or column in mart.not_counts:
                continue
            c = quote(column)
            small, unrounded = con.sql(
                f"select count(*) filter (where {c} between 1 and 7), "
                f"count(*) filter (where {c} > 7 and {c} % 5 <> 0) "
                f"from {table} where disclosure_status <> 'exempt'"
            ).fetchall()[0]
            if small:
                problems.append(f"{mart.name}.{column}: {small} unsuppressed count(s) of 1-7")
            if unrounded:
                problems.append(f"{mart.name}.{column}: {unrounded} count(s) not rounded to 5")
        problems += _group_problems(con, mart, table, types)
    return problems


def _group_problems(
    con: duckdb.DuckDBPyConnection, mart: Mart, table: str, types: dict[str, str]
) -> list[str]:
    """Groups of two or more cells with exactly one suppressed. (A group of one cell has no
    other cell to recover it from.) The group conditions and partitions are SQL from the dbt
    project (the model's meta), never from data."""
    if not mart.groups:
        return []
    if mart.primary_count not in types:
        return [f"{mart.name}: meta.disclosure.primary_count {mart.primary_count!r} not a column"]
    count = quote(mart.primary_count)
    problems = []
    for number, group in enumerate(mart.groups, start=1):
        partition = ", ".join(group["partition"])
        (singles,) = con.sql(
            f"select count(*) from (select {partition}, "
            f"count(*) filter (where {count} is null) as suppressed, "
            f"count(*) as cells "
            f"from {table} where {group['where']} group by all) as groups "
            f"where suppressed = 1 and cells > 1"
        ).fetchall()[0]
        if singles:
            problems.append(
                f"{mart.name}: {singles} group(s) of secondary-suppression group {number} "
                f"({group['where']}; by {partition}) with exactly one suppressed cell"
            )
    return problems


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


def _read_marts(settings: Settings, marts: list[Mart]) -> dict[str, pa.Table]:
    """Every published model from the warehouse, read in one read-only connection (one
    consistent state of the warehouse)."""
    with engines.open_warehouse(settings, [(m.schema, m.name) for m in marts]) as src:
        problems = disclosure_problems(src, marts, schema=marts[0].schema if marts else None)
        if problems:
            raise DisclosureError("refusing to publish:\n  " + "\n  ".join(problems))
        return {
            m.name: src.sql(f"select * from {quote(m.schema)}.{quote(m.name)}").to_arrow_table()
            for m in marts
        }


def _with_run_id(table: pa.Table, run_id: str) -> pa.Table:
    return table.append_column(RUN_ID_COLUMN, pa.array([run_id] * table.num_rows, pa.string()))


def _publication_row(run_id: str, counts: dict[str, int]) -> pa.Table:
    return pa.table(
        {
            "run_id": [run_id],
            "published_at": [dt.datetime.now(dt.UTC).replace(tzinfo=None)],
            "tables": [json.dumps(counts)],
        }
    )


def publish_duckdb(
    settings: Settings, marts: list[Mart], run_id: str, tables: dict[str, pa.Table] | None = None
) -> dict[str, int]:
    """Write each audience's published marts to a new DuckDB file of its own and swap it in
    atomically (an audience with no mart in ``marts`` keeps its file as it is)."""
    tables = tables if tables is not None else _read_marts(settings, marts)
    counts: dict[str, int] = {}
    for audience in AUDIENCES:
        mine = [m for m in marts if m.audience == audience]
        if mine:
            folder = audience_dir(settings.published, audience)
            counts |= _publish_duckdb_file(folder, mine, run_id, tables)
    return counts


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
            incoming = _with_run_id(tables[mart.name], run_id)
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
        dst.register("runs", _publication_row(run_id, counts))
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


def publish_parquet(
    settings: Settings, marts: list[Mart], run_id: str, tables: dict[str, pa.Table] | None = None
) -> dict[str, int]:
    """One Parquet file per mart (plus ``_publication.parquet``) in a new directory per
    audience, then that audience's ``parquet`` symlink is atomically replaced to point at it.
    Readers resolve the link when they open a file, so they read one version throughout; the
    previous version is kept (a reader may still be listing it) and older ones removed."""
    tables = tables if tables is not None else _read_marts(settings, marts)
    counts: dict[str, int] = {}
    for audience in AUDIENCES:
        mine = [m for m in marts if m.audience == audience]
        if mine:
            folder = audience_dir(settings.published, audience)
            counts |= _publish_parquet_folder(folder, mine, run_id, tables)
    return counts


def _publish_parquet_folder(
    published: Path, marts: list[Mart], run_id: str, tables: dict[str, pa.Table]
) -> dict[str, int]:
    import pyarrow.parquet as pq  # noqa: PLC0415 - only needed here

    published.mkdir(parents=True, exist_ok=True)
    clear_dead_writers(published)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    version = f".parquet-{stamp}-{uuid.uuid4().hex[:8]}"
    building = published / f"{version}~{zones.writer_token()}.tmp"
    building.mkdir()
    counts: dict[str, int] = {}
    try:
        for mart in marts:
            incoming = _with_run_id(tables[mart.name], run_id)
            pq.write_table(incoming, building / f"{mart.name}.parquet")
            counts[mart.name] = incoming.num_rows
        pq.write_table(_publication_row(run_id, counts), building / f"{PUBLICATION_TABLE}.parquet")
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


def _prune_parquet_versions(published: Path, keep: set[str]) -> None:
    versions = sorted(
        p for p in published.glob(".parquet-*") if p.is_dir() and not p.name.endswith(".tmp")
    )
    # Keep the newest two whatever happens: a reader that resolved the link just before the swap
    # may still be reading the previous one.
    for old in versions[:-2]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def read_marts(settings: Settings, marts: list[Mart]) -> dict[str, pa.Table]:
    """The published models from the warehouse, after the disclosure check (raises if any)."""
    return _read_marts(settings, marts)

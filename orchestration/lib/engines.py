"""What each warehouse engine needs besides the dbt models: the raw zone made readable to it, and
its built marts read back for publishing.

- ``duckdb`` (the default) reads the raw zone's Parquet in place (the sources'
  ``external_location``) and holds the warehouse in ``warehouse.duckdb``.
- ``postgres``: the raw zone is bulk-loaded into schema ``raw`` with COPY (DuckDB's postgres
  extension would do it too, but extensions cannot be downloaded on an offline server); dbt
  builds in schema ``analytics``. A table is reloaded only when its files changed since its last
  load (names, sizes and modification times, recorded in ``raw._sp_loaded``), in one transaction
  per table, so a reader or a crash never sees half a table.
- ``spark``: the raw zone is read in place through external tables over the partition folders,
  which dbt registers itself at the start of every build (macro ``register_raw_tables``): dbt
  holds the only Spark session. The tables dbt builds are Parquet folders under
  ``$SP_DATA_DIR/spark/warehouse``, which DuckDB reads for publishing without a second JVM.

Publishing reads the marts through ``read_tables``: the published outputs are the same whatever
engine built them.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa

from orchestration.lib.settings import ConfigError, Settings

ENGINES = ("duckdb", "postgres", "spark")
RAW_SCHEMA = "raw"
ANALYTICS_SCHEMA = "analytics"
LOADED_TABLE = "_sp_loaded"

# DuckDB type -> PostgreSQL type for the raw tables. Anything else travels as text.
_PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BOOLEAN": "boolean",
}


@dataclass(frozen=True)
class RawTable:
    """A table of the raw zone (or the audit zone) as dbt sources name it on PostgreSQL and
    Spark: ``raw.<name>``, read from ``folder`` (Hive-partitioned Parquet, ``glob`` deep)."""

    name: str
    folder: Path
    glob: str
    # The quarantine's table name is only in its folder path: DuckDB reads it with
    # filename = true, so the other engines get the same `filename` column.
    with_filename: bool = False
    # Spark: the audit and quarantine folders are not a plain Hive layout (a first level that
    # is not key=value, or a partition key that is also a column of the files), so Spark reads
    # them as a view over their files, the extract date taken from each file's path.
    spark_view: bool = False

    def files(self) -> list[Path]:
        return sorted(self.folder.glob(self.glob)) if self.folder.exists() else []


def raw_tables(settings: Settings, names: Iterable[str]) -> list[RawTable]:
    """The raw zone's tables ``names`` plus the audit zone's two, as the sources read them."""
    tables = [RawTable(name, settings.raw / name, "*/*.parquet") for name in sorted(set(names))]
    tables.append(RawTable("audit_loads", settings.audit, "*/*/*.parquet", spark_view=True))
    tables.append(
        RawTable("audit_quarantine", settings.quarantine, "*/*/*.parquet", True, spark_view=True)
    )
    return tables


def postgres_parts(url: str) -> dict[str, str]:
    """The connection a SQLAlchemy URL names, as the variables profiles.yml reads."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgresql"):
        raise ConfigError(
            "SP_WAREHOUSE_POSTGRES_URL must be a postgresql+psycopg2:// URL, "
            f"not one starting {parts.scheme}://"
        )
    return {
        "SP_PG_HOST": parts.hostname or "127.0.0.1",
        "SP_PG_PORT": str(parts.port or 5432),
        "SP_PG_USER": unquote(parts.username or "postgres"),
        "SP_PG_PASSWORD": unquote(parts.password or ""),
        "SP_PG_DATABASE": parts.path.lstrip("/") or "postgres",
    }


def _fingerprint(files: list[Path]) -> str:
    """Cheap facts that change whenever a partition is written (zones replace files whole)."""
    facts = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()


def load_raw_postgres(settings: Settings, tables: list[RawTable]) -> dict[str, int | None]:
    """Bulk-load each raw table whose files changed into ``raw.<name>`` (COPY, one transaction
    per table: drop, create, copy). Returns rows loaded per table, None where unchanged. A table
    with no files yet is left out (its models are left out of the build too)."""
    import duckdb
    import psycopg2
    from psycopg2 import sql

    if not settings.warehouse_postgres_url:
        raise ConfigError("SP_DBT_TARGET=postgres needs SP_WAREHOUSE_POSTGRES_URL (the warehouse).")
    p = postgres_parts(settings.warehouse_postgres_url)
    loaded: dict[str, int | None] = {}
    conn = psycopg2.connect(
        host=p["SP_PG_HOST"],
        port=int(p["SP_PG_PORT"]),
        user=p["SP_PG_USER"],
        password=p["SP_PG_PASSWORD"],
        dbname=p["SP_PG_DATABASE"],
    )
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL("create schema if not exists {}").format(sql.Identifier(RAW_SCHEMA))
            )
            cur.execute(
                sql.SQL(
                    "create table if not exists {}.{} (table_name text primary key, "
                    "fingerprint text not null, loaded_rows bigint, loaded_at timestamp)"
                ).format(sql.Identifier(RAW_SCHEMA), sql.Identifier(LOADED_TABLE))
            )
            cur.execute(
                sql.SQL("select table_name, fingerprint from {}.{}").format(
                    sql.Identifier(RAW_SCHEMA), sql.Identifier(LOADED_TABLE)
                )
            )
            known = dict(cur.fetchall())
        duck = duckdb.connect()
        with tempfile.TemporaryDirectory(prefix="sp-pg-load-") as tmp:
            for table in tables:
                files = table.files()
                if not files:
                    continue
                fingerprint = _fingerprint(files)
                if known.get(table.name) == fingerprint:
                    loaded[table.name] = None
                    continue
                rel = duck.read_parquet(
                    [str(f) for f in files],
                    hive_partitioning=True,
                    union_by_name=True,
                    filename=table.with_filename,
                )
                csv_path = Path(tmp) / f"{table.name}.csv"
                rel.write_csv(str(csv_path), header=True)
                columns = sql.SQL(", ").join(
                    sql.SQL("{} {}").format(
                        sql.Identifier(name), sql.SQL(_PG_TYPES.get(str(kind), "text"))
                    )
                    for name, kind in zip(rel.columns, rel.types, strict=True)
                )
                target = sql.Identifier(RAW_SCHEMA, table.name)
                with conn, conn.cursor() as cur, csv_path.open() as f:
                    cur.execute(sql.SQL("drop table if exists {} cascade").format(target))
                    cur.execute(sql.SQL("create table {} ({})").format(target, columns))
                    cur.copy_expert(
                        sql.SQL("copy {} from stdin with (format csv, header true)")
                        .format(target)
                        .as_string(cur),
                        f,
                    )
                    rows = cur.rowcount
                    cur.execute(
                        sql.SQL(
                            "insert into {}.{} values (%s, %s, %s, now()) on conflict "
                            "(table_name) do update set fingerprint = excluded.fingerprint, "
                            "loaded_rows = excluded.loaded_rows, loaded_at = excluded.loaded_at"
                        ).format(sql.Identifier(RAW_SCHEMA), sql.Identifier(LOADED_TABLE)),
                        [table.name, fingerprint, rows],
                    )
                csv_path.unlink()
                loaded[table.name] = rows
        duck.close()
    finally:
        conn.close()
    return loaded


def raw_table_names(manifest: dict[str, Any]) -> list[str]:
    """The raw tables the dbt sources read (their ``meta.dagster.asset_key`` under ``raw``)."""
    names = []
    for source in manifest["sources"].values():
        meta = source.get("config", {}).get("meta", {}) or source.get("meta", {})
        key = meta.get("dagster", {}).get("asset_key") or []
        if key[:1] == ["raw"]:
            names.append(key[-1])
    return sorted(set(names))


def prepare(settings: Settings, manifest: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Make the raw zone readable to the run's engine before dbt builds: (extra dbt arguments,
    lines for the log). DuckDB needs nothing."""
    tables = raw_tables(settings, raw_table_names(manifest))
    if settings.dbt_target == "postgres":
        loaded = load_raw_postgres(settings, tables)
        changed = {name: rows for name, rows in loaded.items() if rows is not None}
        return [], [
            f"PostgreSQL raw schema: {len(changed)} table(s) reloaded by COPY "
            + (f"({', '.join(f'{n} {r:,} rows' for n, r in changed.items())})" if changed else "")
            + f", {len(loaded) - len(changed)} unchanged"
        ]
    if settings.dbt_target == "spark":
        spark_vars = spark_raw_vars(tables)
        return ["--vars", json.dumps(spark_vars)], [
            f"Spark: {len(spark_vars['spark_raw_tables'])} raw table(s) read in place as "
            "external tables"
        ]
    return [], []


def spark_raw_vars(tables: list[RawTable]) -> dict[str, dict[str, dict[str, object]]]:
    """The dbt vars the Spark build registers its external tables from (macro
    register_raw_tables): every raw table with files, and where its folder is."""
    return {
        "spark_raw_tables": {
            t.name: {
                "location": str(t.folder),
                "files": t.glob if t.spark_view else None,
                "with_filename": t.with_filename,
            }
            for t in tables
            if t.files()
        }
    }


def spark_table_folder(settings: Settings, schema: str, name: str) -> Path:
    """Where Spark keeps a table dbt built (a managed Parquet table of the session's
    warehouse directory)."""
    return settings.data_dir / "spark" / "warehouse" / f"{schema}.db" / name


def engine_schema(settings: Settings, schema: str) -> str:
    """Where a model the manifest places in ``schema`` lives on the run's engine. The manifest
    Dagster loads may have been parsed for DuckDB, whose default schema is ``main``; on the
    other engines dbt builds in ``analytics`` (profiles.yml). A custom schema is the same name
    everywhere (macro generate_schema_name)."""
    if settings.dbt_target != "duckdb" and schema == "main":
        return ANALYTICS_SCHEMA
    return schema


def _postgres_tables(url: str, qualified: list[tuple[str, str]]) -> dict[tuple[str, str], pa.Table]:
    """The tables that exist among ``qualified``, read whole with their declared types."""
    import psycopg2
    import psycopg2.extensions
    import sqlalchemy as sa

    # numeric (from round(), avg() on PostgreSQL) travels as float, as DuckDB and Spark give it.
    as_float = psycopg2.extensions.new_type(
        psycopg2.extensions.DECIMAL.values,
        "SP_NUMERIC_AS_FLOAT",
        lambda value, cur: float(value) if value is not None else None,
    )
    arrow_types = {
        "text": pa.string(),
        "character varying": pa.string(),
        "bigint": pa.int64(),
        "integer": pa.int32(),
        "smallint": pa.int16(),
        "double precision": pa.float64(),
        "real": pa.float32(),
        "numeric": pa.float64(),
        "date": pa.date32(),
        "boolean": pa.bool_(),
        "timestamp without time zone": pa.timestamp("us"),
    }
    engine = sa.create_engine(url)
    out: dict[tuple[str, str], pa.Table] = {}
    try:
        with engine.connect() as conn:
            psycopg2.extensions.register_type(as_float, conn.connection.dbapi_connection)
            for schema, name in qualified:
                columns = conn.execute(
                    sa.text(
                        "select column_name, data_type from information_schema.columns "
                        "where table_schema = :schema and table_name = :name "
                        "order by ordinal_position"
                    ),
                    {"schema": schema, "name": name},
                ).fetchall()
                if not columns:
                    continue
                arrow_schema = pa.schema(
                    [(str(c), arrow_types.get(str(kind), pa.string())) for c, kind in columns]
                )
                table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
                rows = conn.execute(sa.select(table)).fetchall()
                out[(schema, name)] = pa.Table.from_pylist(
                    [dict(r._mapping) for r in rows], schema=arrow_schema
                )
    finally:
        engine.dispose()
    return out


@contextmanager
def open_warehouse(settings: Settings, qualified: list[tuple[str, str]]) -> Iterator[Any]:
    """A read-only DuckDB connection in which each of the (schema, name) models that the
    engine has built can be read under that name: the warehouse file itself on DuckDB; on
    PostgreSQL and Spark, an in-memory database holding a copy of those models read from the
    engine (published marts are small aggregates). Publishing runs its disclosure check and
    reads through it, whatever engine built the marts."""
    import duckdb

    if settings.dbt_target == "duckdb":
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            yield con
        finally:
            con.close()
        return
    located = {(engine_schema(settings, s), n): (s, n) for s, n in qualified}
    if settings.dbt_target == "spark":
        found = {}
        for (schema, name), wanted in located.items():
            folder = spark_table_folder(settings, schema, name)
            if any(folder.glob("*.parquet")):
                with duckdb.connect() as reader:
                    found[wanted] = reader.read_parquet(str(folder / "*.parquet")).to_arrow_table()
    else:
        tables = _postgres_tables(settings.warehouse_postgres_url or "", list(located))
        found = {located[key]: table for key, table in tables.items()}
    con = duckdb.connect()
    try:
        for (schema, name), table in found.items():
            con.execute(f"create schema if not exists {_quote(schema)}")
            con.register("_sp_incoming", table)
            con.execute(
                f"create table {_quote(schema)}.{_quote(name)} as select * from _sp_incoming"
            )
            con.unregister("_sp_incoming")
        yield con
    finally:
        con.close()


def _quote(identifier: str) -> str:
    """An identifier from the dbt manifest (never from data), double-quoted for DuckDB."""
    return '"' + identifier.replace('"', '""') + '"'

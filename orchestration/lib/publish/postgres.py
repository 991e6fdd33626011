"""Publish the published marts into PostgreSQL for BI tools: the ``public`` audience into schema
``published``, the ``internal`` audience (exact counts) into ``published_internal``.

One transaction per run: readers see the old or the new version of every table, never a mix,
because rows are replaced with DELETE + COPY (both MVCC: a reader's snapshot keeps the old rows
until it ends) rather than DROP/TRUNCATE (which are not MVCC-safe and would block or empty a
reader's view). Tables are only dropped and recreated when their columns change — a contract
change — and that DDL is in the same transaction. Publishers are serialised with a transaction
advisory lock so two runs cannot interleave their deletes and inserts.

A NOLOGIN role per audience gets CONNECT on the database, USAGE on its schema and SELECT on its
tables, and nothing else: ``sp_bi_reader`` (public) and ``sp_internal_reader`` (internal, which
is also made a member of the public role: the ICB's own analysts read both). BI tool logins are
made members of one of them; the public role has no grant on ``published_internal``. PostgreSQL grants
every role what PUBLIC has, and by default PUBLIC may use (and before PostgreSQL 15 create in)
schema ``public`` and create temporary tables in any database, which a role-level REVOKE cannot
take away. So each publish also revokes ALL on schema ``public`` and TEMPORARY on the database
from PUBLIC: a BI login can then read only ``published`` (plus the system catalogs every role
sees) and write nowhere, not even a temp table. This is meant for a database dedicated to
publishing; anything else living in it must grant its own users what they need explicitly.
Table and column comments come from the dbt descriptions.
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from orchestration.lib.publish.marts import (
    AUDIENCES,
    INTERNAL,
    PUBLIC,
    PUBLICATION_TABLE,
    RUN_ID_COLUMN,
    Mart,
    publication_row,
)

SCHEMA = "published"  # the public audience's schema (the name BI tools have always used)
SCHEMAS = {PUBLIC: SCHEMA, INTERNAL: "published_internal"}
READER_ROLE_ENV = "SP_PUBLISH_POSTGRES_READER_ROLE"
DEFAULT_READER_ROLE = "sp_bi_reader"
INTERNAL_READER_ROLE_ENV = "SP_PUBLISH_POSTGRES_INTERNAL_READER_ROLE"
DEFAULT_INTERNAL_READER_ROLE = "sp_internal_reader"
# Any constant: the advisory lock that serialises publishers of this schema.
PUBLISH_LOCK_KEY = 7_250_501
NULL_MARKER = "\\N"
# Columns BI tools filter on; indexed wherever a published table has them.
FILTER_COLUMNS = (
    "org_level",
    "org_code",
    "pcn_code",
    "icb_code",
    "referral_month",
    "month_start",
    "census_month",
    "index_quarter",
)


def _pg_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "bigint"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "double precision"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    return "text"


def _copy_rows(dbapi_conn: Any, qualified: str, table: pa.Table) -> None:
    """COPY the rows as CSV: one round trip, inside the caller's transaction. NULL travels as
    an explicit marker so that an empty string stays an empty string."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    columns = table.column_names
    for row in table.to_pylist():
        writer.writerow([NULL_MARKER if row[c] is None else row[c] for c in columns])
    buf.seek(0)
    with dbapi_conn.cursor() as cur:
        cur.copy_expert(f"copy {qualified} from stdin with (format csv, null '{NULL_MARKER}')", buf)


def publish_postgres(
    url: str,
    marts: list[Mart],
    tables: dict[str, pa.Table],
    run_id: str,
    reader_role: str | None = None,
    internal_reader_role: str | None = None,
) -> dict[str, int]:
    """Replace each audience's schema's tables with these, in one transaction (an audience with
    no mart in ``marts`` keeps its tables as they are)."""
    roles = {
        PUBLIC: reader_role or os.environ.get(READER_ROLE_ENV, DEFAULT_READER_ROLE),
        INTERNAL: internal_reader_role
        or os.environ.get(INTERNAL_READER_ROLE_ENV, DEFAULT_INTERNAL_READER_ROLE),
    }
    engine = sa.create_engine(url)
    counts: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            q = conn.dialect.identifier_preparer.quote
            conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": PUBLISH_LOCK_KEY})
            database = q(conn.execute(sa.text("select current_database()")).scalar_one())
            # What every role inherits from PUBLIC: using (and creating in) schema public, and
            # temporary tables. Identifiers come from the server and the settings, not data.
            conn.execute(sa.text("revoke all on schema public from public"))
            conn.execute(sa.text(f"revoke temporary on database {database} from public"))
            dbapi = conn.connection.dbapi_connection
            for audience in AUDIENCES:
                _ensure_reader_role(conn, roles[audience])
                mine = [m for m in marts if m.audience == audience]
                if not mine:
                    continue
                schema_name = SCHEMAS[audience]
                schema = q(schema_name)
                conn.execute(sa.text(f"create schema if not exists {schema}"))
                published: dict[str, int] = {}
                for mart in mine:
                    table = tables[mart.name].append_column(
                        RUN_ID_COLUMN,
                        pa.array([run_id] * tables[mart.name].num_rows, pa.string()),
                    )
                    _replace_table(
                        conn, dbapi, schema_name, mart.name, table, mart.description, mart.columns
                    )
                    published[mart.name] = table.num_rows
                _replace_table(
                    conn,
                    dbapi,
                    schema_name,
                    PUBLICATION_TABLE,
                    publication_row(run_id, published),
                    "One row naming the run that published these tables "
                    "(compare publication_run_id).",
                    {},
                )
                counts |= published
                role = q(roles[audience])
                conn.execute(sa.text(f"revoke all on schema {schema} from public"))
                conn.execute(sa.text(f"grant connect on database {database} to {role}"))
                conn.execute(sa.text(f"grant usage on schema {schema} to {role}"))
                conn.execute(sa.text(f"grant select on all tables in schema {schema} to {role}"))
            # The ICB's own readers see the public tables too; never the other way round.
            conn.execute(sa.text(f"grant {q(roles[PUBLIC])} to {q(roles[INTERNAL])}"))
    finally:
        engine.dispose()
    return counts


def _ensure_reader_role(conn: sa.Connection, role: str) -> None:
    exists = conn.execute(
        sa.text("select 1 from pg_roles where rolname = :r"), {"r": role}
    ).scalar()
    if not exists:
        quoted = conn.dialect.identifier_preparer.quote(role)
        conn.execute(sa.text(f"create role {quoted} nologin"))


def _replace_table(
    conn: sa.Connection,
    dbapi: Any,
    schema: str,
    name: str,
    table: pa.Table,
    description: str,
    column_descriptions: dict[str, str],
) -> None:
    q = conn.dialect.identifier_preparer.quote
    qualified = f"{q(schema)}.{q(name)}"
    wanted = [(f.name, _pg_type(f.type)) for f in table.schema]
    existing = conn.execute(
        sa.text(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = :s and table_name = :t order by ordinal_position"
        ),
        {"s": schema, "t": name},
    ).all()
    if [(c, t) for c, t in existing] != wanted:
        # A contract change (or a first publish): DDL, still inside this run's transaction.
        conn.execute(sa.text(f"drop table if exists {qualified}"))
        cols = ", ".join(f"{q(c)} {t}" for c, t in wanted)
        conn.execute(sa.text(f"create table {qualified} ({cols})"))
        for column in FILTER_COLUMNS:
            if column in table.column_names:
                conn.execute(
                    sa.text(f"create index {q(f'{name}__{column}')} on {qualified} ({q(column)})")
                )
    else:
        conn.execute(sa.text(f"delete from {qualified}"))
    _copy_rows(dbapi, qualified, table)
    # COMMENT takes no bind parameters: quote the dbt description as a literal with the
    # driver's own quoting (project text, not data).
    literal = sa.String().literal_processor(dialect=conn.dialect)
    if description:
        conn.execute(sa.text(f"comment on table {qualified} is {literal(description)}"))
    for column, text in column_descriptions.items():
        if text and column in table.column_names:
            conn.execute(sa.text(f"comment on column {qualified}.{q(column)} is {literal(text)}"))


def published_runs(url: str, audience: str = PUBLIC) -> list[dict]:
    """The publication row(s) currently visible (for tests and the runbook)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(f"select run_id, tables from {SCHEMAS[audience]}.{PUBLICATION_TABLE}")
            ).all()
        return [{"run_id": r[0], "tables": json.loads(r[1])} for r in rows]
    finally:
        engine.dispose()

"""PostgreSQL publishing against a real local server (tests/pg_server.py): the
published schema, its comments and indexes, and a BI login in the read-only role that can
query a mart but cannot read another schema (the internal audience's included) or write
anything; a login in the internal reader role reads the internal schema's exact counts and the
public schema, and writes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from orchestration.lib.publish import publishable_marts, read_marts
from orchestration.lib.publish.postgres import (
    DEFAULT_INTERNAL_READER_ROLE,
    DEFAULT_READER_ROLE,
    publish_postgres,
)
from orchestration.lib.settings import DBT_PROJECT_DIR, load_settings

if TYPE_CHECKING:
    from pg_server import PgServer
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e
BI_USER, BI_PASSWORD = "bi_tool", "bi-tool-test-password"
ANALYST_USER, ANALYST_PASSWORD = "icb_analyst", "icb-analyst-test-password"


@pytest.fixture(scope="module")
def published_pg(
    published_run: PipelineRun, pg: PgServer, monkeypatch_module: pytest.MonkeyPatch
) -> PgServer:
    monkeypatch_module.setenv("SP_DATA_DIR", str(published_run.data))
    marts = publishable_marts(DBT_PROJECT_DIR / "target" / "manifest.json")
    publish_postgres(pg.url(), marts, read_marts(load_settings(), marts), "pg-test-run")
    admin = sa.create_engine(pg.url())
    with admin.begin() as conn:
        # Something that is not published, which the BI login must not see.
        conn.execute(sa.text("create schema if not exists warehouse_private"))
        conn.execute(sa.text("create table if not exists warehouse_private.secret (x int)"))
        conn.execute(sa.text("create table if not exists public.also_secret (x int)"))
        for user, secret, role in (
            (BI_USER, BI_PASSWORD, DEFAULT_READER_ROLE),
            (ANALYST_USER, ANALYST_PASSWORD, DEFAULT_INTERNAL_READER_ROLE),
        ):
            exists = conn.execute(sa.text("select 1 from pg_roles where rolname = :u"), {"u": user})
            if not exists.scalar():
                # CREATE ROLE takes no bind parameters: the driver's own literal quoting.
                password = sa.String().literal_processor(dialect=conn.dialect)(secret)
                conn.execute(
                    sa.text(f"create role {user} login password {password} in role {role}")
                )
    admin.dispose()
    return pg


@pytest.fixture(scope="module")
def monkeypatch_module() -> pytest.MonkeyPatch:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _bi(pg: PgServer) -> sa.Engine:
    return sa.create_engine(pg.url(BI_USER, BI_PASSWORD))


def test_bi_login_reads_a_published_mart(published_pg: PgServer) -> None:
    engine = _bi(published_pg)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select referral_month, referrals, disclosure_status, publication_run_id "
                "from published.pub_referrals_monthly where org_level = 'all' "
                "and referrer_type = 'All' and pathway_stage = 'All' order by referral_month"
            )
        ).all()
        run = conn.execute(sa.text("select run_id from published._publication")).scalar()
    engine.dispose()
    assert len(rows) >= 12 and run == "pg-test-run"
    assert all(r.publication_run_id == run for r in rows)
    assert all(r.referrals is None or r.referrals % 5 == 0 for r in rows)


def test_bi_login_cannot_read_other_schemas(published_pg: PgServer) -> None:
    engine = _bi(published_pg)
    for table in ("warehouse_private.secret", "public.also_secret"):
        with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError, match="permission"):
            conn.execute(sa.text(f"select * from {table}"))
    # Not even the schema public (which every role may use by default): the publish revoked
    # what PUBLIC had there, so the login is refused at the schema, before any table.
    with (
        engine.connect() as conn,
        pytest.raises(sa.exc.ProgrammingError, match="permission denied for schema public"),
    ):
        conn.execute(sa.text("select * from public.also_secret"))
    with engine.connect() as conn:
        visible = conn.execute(
            sa.text(
                "select distinct table_schema from information_schema.tables "
                "where table_schema not in ('pg_catalog', 'information_schema')"
            )
        ).all()
        may_use_public = conn.execute(
            sa.text("select has_schema_privilege('public', 'usage')")
        ).scalar()
    engine.dispose()
    assert visible == [("published",)]
    assert may_use_public is False


@pytest.mark.parametrize(
    "statement",
    [
        "insert into published.pub_referrals_monthly (org_level) values ('x')",
        "delete from published.pub_referrals_monthly",
        "create table published.mine (x int)",
        "drop table published.pub_referrals_monthly",
        "create table public.mine (x int)",
        # No temporary tables either (PUBLIC may create them in any database by default).
        "create temporary table mine (x int)",
    ],
)
def test_bi_login_cannot_write(published_pg: PgServer, statement: str) -> None:
    engine = _bi(published_pg)
    with (
        engine.connect() as conn,
        pytest.raises(sa.exc.ProgrammingError, match="permission denied|must be owner"),
    ):
        conn.execute(sa.text(statement))
    engine.dispose()


def test_comments_and_indexes_come_with_the_tables(published_pg: PgServer) -> None:
    engine = sa.create_engine(published_pg.url())
    with engine.connect() as conn:
        comment = conn.execute(
            sa.text("select obj_description('published.pub_referrals_monthly'::regclass)")
        ).scalar()
        column_comment = conn.execute(
            sa.text(
                "select col_description('published.pub_referrals_monthly'::regclass, "
                "(select attnum from pg_attribute where attrelid = "
                "'published.pub_referrals_monthly'::regclass and attname = 'disclosure_status'))"
            )
        ).scalar()
        indexed = {
            r[0]
            for r in conn.execute(
                sa.text(
                    "select indexname from pg_indexes where schemaname = 'published' "
                    "and tablename = 'pub_referrals_monthly'"
                )
            )
        }
    engine.dispose()
    assert comment.startswith("Published referrals. Grain:")
    assert "rounded (counts to the nearest 5), suppressed" in column_comment
    assert {"pub_referrals_monthly__org_code", "pub_referrals_monthly__referral_month"} <= indexed


def test_a_second_publish_replaces_rows_without_duplicates(published_pg: PgServer) -> None:
    marts = publishable_marts(DBT_PROJECT_DIR / "target" / "manifest.json")
    tables = read_marts(load_settings(), marts)
    publish_postgres(published_pg.url(), marts, tables, "pg-test-run-2")
    engine = _bi(published_pg)
    with engine.connect() as conn:
        n, runs = conn.execute(
            sa.text(
                "select count(*), count(distinct publication_run_id) "
                "from published.pub_referrals_monthly"
            )
        ).one()
    engine.dispose()
    assert (n, runs) == (tables["pub_referrals_monthly"].num_rows, 1)


def test_bi_login_cannot_read_the_internal_schema(published_pg: PgServer) -> None:
    """The public reader role has no grant on published_internal: refused at the schema."""
    engine = _bi(published_pg)
    with (
        engine.connect() as conn,
        pytest.raises(sa.exc.ProgrammingError, match="permission denied for schema"),
    ):
        conn.execute(sa.text("select * from published_internal.pub_internal_referrals_monthly"))
    with engine.connect() as conn:
        may_use = conn.execute(
            sa.text("select has_schema_privilege('published_internal', 'usage')")
        ).scalar()
    engine.dispose()
    assert may_use is False


def test_internal_login_reads_exact_counts_and_the_public_schema(published_pg: PgServer) -> None:
    marts = publishable_marts(DBT_PROJECT_DIR / "target" / "manifest.json")
    expected = read_marts(load_settings(), marts)["pub_internal_referrals_monthly"]
    engine = sa.create_engine(published_pg.url(ANALYST_USER, ANALYST_PASSWORD))
    with engine.connect() as conn:
        internal = conn.execute(
            sa.text(
                "select org_code, referral_month, referrals "
                "from published_internal.pub_internal_referrals_monthly "
                "where org_level = 'practice' and referrer_type = 'All' and pathway_stage = 'All'"
            )
        ).all()
        public = conn.execute(sa.text("select count(*) from published.pub_referrals_monthly"))
        public_rows = public.scalar()
        run = conn.execute(sa.text("select run_id from published_internal._publication")).scalar()
    with (
        engine.connect() as conn,
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
    ):
        conn.execute(sa.text("delete from published_internal.pub_internal_referrals_monthly"))
    engine.dispose()
    want = {
        (r["org_code"], r["referral_month"], r["referrals"])
        for r in expected.to_pylist()
        if r["org_level"] == "practice"
        and r["referrer_type"] == "All"
        and r["pathway_stage"] == "All"
    }
    assert set(map(tuple, internal)) == want
    assert any(1 <= r[2] <= 7 for r in internal), "exact small counts are the point of internal"
    assert public_rows > 0 and run.startswith("pg-test-run")


def test_the_pathway_tables_reach_both_schemas(published_pg: PgServer) -> None:
    """The pathway tables (Social Prescribing Information Standard) are published like every
    other: the public ones to `published`, read by the BI login, the exact ones to
    `published_internal`, each with every row the warehouse holds."""
    marts = publishable_marts(DBT_PROJECT_DIR / "target" / "manifest.json")
    expected = read_marts(load_settings(), marts)
    found = {}
    for login, schema, tables in (
        (
            (BI_USER, BI_PASSWORD),
            "published",
            ("pub_pathway_quarterly", "pub_pathway_categories"),
        ),
        (
            (ANALYST_USER, ANALYST_PASSWORD),
            "published_internal",
            ("pub_internal_pathway_quarterly", "pub_internal_pathway_categories"),
        ),
    ):
        engine = sa.create_engine(published_pg.url(*login))
        with engine.connect() as conn:
            for table in tables:
                # Table names are the dbt models' own constants, not data.
                found[table] = conn.execute(
                    sa.text(f"select count(*) from {schema}.{table}")
                ).scalar()
        engine.dispose()
    assert found == {t: expected[t].num_rows for t in found}
    assert all(n > 0 for n in found.values())

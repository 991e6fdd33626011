"""The check that blocks publication: patient-level columns and unsuppressed or unrounded
counts are caught on hand-made tables, every table the pipeline publishes passes it, and a
failing check stops the publish assets in a real Dagster run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from orchestration.lib.publish import (
    PUBLIC,
    DisclosureError,
    Mart,
    disclosure_problems,
    publish_duckdb,
    publishable_marts,
)
from orchestration.lib.settings import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun


def _con(sql: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(sql)
    return con


def test_a_controlled_table_passes() -> None:
    con = _con(
        "create table t as select * from (values "
        "('a', 0, 2, 'rounded'), ('b', 10, 1, 'rounded'), ('c', null, 2, 'suppressed'),"
        " ('all', 3, 1, 'exempt')) v(org_code, referrals, spc_period, disclosure_status)"
    )
    mart = Mart("t", "main", "", not_counts=frozenset({"spc_period"}))
    assert disclosure_problems(con, [mart]) == []


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select 'x' as person_id, 'rounded' as disclosure_status", "patient-level column"),
        ("select 'e1' as episode_id, 'rounded' as disclosure_status", "patient-level column"),
        ("select 'r1' as referral_id, 'rounded' as disclosure_status", "patient-level column"),
        (
            "select '9434765919' as nhs_number, 'rounded' as disclosure_status",
            "patient-level column",
        ),
        (
            "select date '1980-02-29' as date_of_birth, 'rounded' as disclosure_status",
            "patient-level column",
        ),
        ("select 'E01000001' as lsoa, 'rounded' as disclosure_status", "patient-level column"),
        ("select 'LS1 4AP' as postcode, 'rounded' as disclosure_status", "patient-level column"),
        # Day-level event dates, whatever the column is called, and timestamps.
        (
            "select date '2024-06-17' as referral_date, 'rounded' as disclosure_status",
            "day-level date",
        ),
        (
            "select date '2024-06-30' as census_date, 'rounded' as disclosure_status",
            "day-level date",
        ),
        (
            "select timestamp '2024-06-01 09:30' as seen_at, 'rounded' as disclosure_status",
            "timestamp column",
        ),
        # A rate or mean shown where the count it derives from is suppressed.
        (
            "select null::bigint as referrals, 0.25 as rate, 'suppressed' as disclosure_status",
            "shown where a count it derives from (referrals) is suppressed",
        ),
        (
            "select 10 as referrals, null::bigint as population, 0.25 as rate, "
            "'suppressed' as disclosure_status",
            "shown where a count it derives from (referrals, population) is suppressed",
        ),
        ("select 1990 as birth_year, 'rounded' as disclosure_status", "patient-level column"),
        ("select 'E01' as lsoa_code, 'rounded' as disclosure_status", "patient-level column"),
        ("select 3 as referrals, 'rounded' as disclosure_status", "unsuppressed count(s) of 1-7"),
        ("select 12 as referrals, 'rounded' as disclosure_status", "not rounded to 5"),
        ("select 10 as referrals", "no disclosure_status column"),
        # An integer column is a count unless the model declares it not_a_count.
        ("select 7 as spc_period, 'rounded' as disclosure_status", "count(s) of 1-7"),
    ],
)
def test_what_blocks_publication(sql: str, expected: str) -> None:
    con = _con(f"create table t as {sql}")
    derived = {"rate": ("referrals", "population")} if "population" in sql else {}
    derived = derived or ({"rate": ("referrals",)} if "rate" in sql else {})
    problems = disclosure_problems(con, [Mart("t", "main", "", derived=derived)])
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("sql", "mart"),
    [
        # Month starts are not day-level; a declared period boundary (a census date) may be any day.
        (
            "select date '2024-06-01' as month_start, 'rounded' as disclosure_status",
            Mart("t", "main", ""),
        ),
        (
            "select date '2024-06-30' as census_date, 'rounded' as disclosure_status",
            Mart("t", "main", "", period_boundaries=frozenset({"census_date"})),
        ),
        # A rate beside shown counts, and a null rate beside a suppressed one.
        (
            "select * from (values (10, 0.5, 'rounded'), (null, null, 'suppressed')) "
            "v(referrals, rate, disclosure_status)",
            Mart("t", "main", "", derived={"rate": ("referrals",)}),
        ),
    ],
)
def test_what_does_not_block_publication(sql: str, mart: Mart) -> None:
    con = _con(f"create table t as {sql}")
    assert disclosure_problems(con, [mart]) == []


def test_every_published_rate_and_mean_declares_its_counts(dbt_manifest: Path) -> None:
    """The null-where-suppressed check only covers declared columns: every non-count column of
    a mart under disclosure control other than its keys and markers is declared derived from
    counts, or not a count (constants, period values such as the SPC mean)."""
    import json

    manifest = json.loads(dbt_manifest.read_text())
    marts = {m.name: m for m in publishable_marts(dbt_manifest)}
    undeclared = []
    for node in manifest["nodes"].values():
        mart = marts.get(node["name"]) if node["resource_type"] == "model" else None
        if mart is None or not mart.primary_count:
            continue
        for name, column in node["columns"].items():
            if (column.get("data_type") or "").lower() not in {"double", "boolean"}:
                continue
            if name in mart.derived or name in mart.not_counts or name in {"is_suppressed"}:
                continue
            if name in {
                "higher_is_better",
                "has_full_12_months",
                "is_complete",  # whether the data covers the period (dim_data_coverage)
                "is_unit_cost_placeholder",
            }:
                continue  # labels of the row, not values computed from its counts
            undeclared.append(f"{mart.name}.{name}")
    assert undeclared == []


# A PCN total and its practices, as the published models declare them in meta.disclosure.
PRACTICE_TO_PCN = (
    {
        "where": "org_level in ('practice', 'pcn')",
        "partition": [
            "case when org_level = 'practice' then parent_org_code else org_code end",
            "referral_month",
        ],
    },
)


def _hierarchy_table(practice_2: str, pcn: str) -> duckdb.DuckDBPyConnection:
    return _con(
        "create table t as select * from (values "
        f"('practice', 'P1', 'U1', date '2024-06-01', null, 'suppressed'), "
        f"('practice', 'P2', 'U1', date '2024-06-01', {practice_2}), "
        f"('practice', 'P3', 'U1', date '2024-06-01', 20, 'rounded'), "
        f"('pcn', 'U1', 'Q1', date '2024-06-01', {pcn}), "
        # Another month, fully shown: not a problem.
        "('practice', 'P1', 'U1', date '2024-07-01', 10, 'rounded'), "
        "('pcn', 'U1', 'Q1', date '2024-07-01', 10, 'rounded')"
        ") v(org_level, org_code, parent_org_code, referral_month, referrals, disclosure_status)"
    )


@pytest.mark.parametrize(
    ("practice_2", "pcn", "singles"),
    [
        # P1 alone suppressed: P1 = U1 - P2 - P3.
        ("15, 'rounded'", "35, 'rounded'", 1),
        # P1 and P2 suppressed: safe.
        ("null, 'suppressed'", "35, 'rounded'", 0),
        # P1 and the total suppressed: safe (P1 is not the total minus known parts).
        ("15, 'rounded'", "null, 'suppressed'", 0),
    ],
)
def test_a_group_with_exactly_one_suppressed_cell_blocks(
    practice_2: str, pcn: str, singles: int
) -> None:
    con = _hierarchy_table(practice_2, pcn)
    mart = Mart("t", "main", "", primary_count="referrals", groups=PRACTICE_TO_PCN)
    problems = disclosure_problems(con, [mart])
    blocked = [p for p in problems if "exactly one suppressed cell" in p]
    assert len(blocked) == singles, problems
    if singles:
        assert blocked[0].startswith(f"t: {singles} group(s)")


def test_a_suppressed_total_with_every_part_shown_blocks() -> None:
    """The total counts as a cell: a suppressed PCN whose practices are all shown is their sum."""
    con = _con(
        "create table t as select * from (values "
        "('practice', 'P1', 'U1', date '2024-06-01', 10, 'rounded'), "
        "('practice', 'P2', 'U1', date '2024-06-01', 15, 'rounded'), "
        "('pcn', 'U1', 'Q1', date '2024-06-01', null, 'suppressed')"
        ") v(org_level, org_code, parent_org_code, referral_month, referrals, disclosure_status)"
    )
    mart = Mart("t", "main", "", primary_count="referrals", groups=PRACTICE_TO_PCN)
    assert any("exactly one suppressed cell" in p for p in disclosure_problems(con, [mart]))


def test_a_group_of_one_cell_does_not_block() -> None:
    """The only PCN of an ICB whose total is not published: nothing to recover it from."""
    con = _con(
        "create table t as select * from (values "
        "('U1', 'Q1', null, 'suppressed'), ('U2', 'Q2', 10, 'rounded'), ('U3', 'Q2', 15, 'rounded')"
        ") v(pcn_code, parent_org_code, referred_people, disclosure_status)"
    )
    groups = ({"where": "true", "partition": ["parent_org_code"]},)
    mart = Mart("t", "main", "", primary_count="referred_people", groups=groups)
    assert disclosure_problems(con, [mart]) == []


def test_every_published_model_declares_its_groups(dbt_manifest: Path) -> None:
    """Every published model under disclosure control declares its primary count and groups
    (the check above can only hold what is declared); the exempt workforce tables and the
    exempt dimensions (names and a calendar, no counts) need none, and the savings headline
    declares its primary count but no groups: each row is an ICB's total over all its referred
    people, with no parts of it in the same table."""
    marts = {m.name: m for m in publishable_marts(dbt_manifest) if m.audience == PUBLIC}
    undeclared = {n for n, m in marts.items() if not (m.primary_count and m.groups)}
    assert undeclared == {
        "pub_workforce_pcn_month",
        "pub_workforce_trajectory",
        "pub_utilisation_savings_headline",
        "pub_dim_organisations",
        "pub_dim_dates",
    }
    assert marts["pub_utilisation_savings_headline"].primary_count == "referred_people"


@pytest.mark.e2e
def test_every_published_table_passes_and_carries_the_run_id(published_run: PipelineRun) -> None:
    con = duckdb.connect(str(published_run.data / "published" / "marts.duckdb"), read_only=True)
    tables = [r[0] for r in con.sql("select table_name from duckdb_tables()").fetchall()]
    assert "_publication" in tables
    published = sorted(t for t in tables if t != "_publication")
    assert published and all(t.startswith("pub_") for t in published)
    (run_id,) = con.sql("select run_id from _publication").fetchall()[0]
    for table in published:
        ids = con.sql(f'select distinct publication_run_id from "{table}"').fetchall()
        assert ids == [(run_id,)], table
    # With the models' own declarations (not-a-count columns, secondary-suppression groups).
    declared = {
        m.name: m
        for m in publishable_marts(DBT_PROJECT_DIR / "target" / "manifest.json")
        if m.audience == PUBLIC  # this file is the public audience's
    }
    assert set(published) == set(declared)
    marts = [declared[t] for t in published]
    assert disclosure_problems(con, marts) == []
    # No marts from the warehouse (fct_*, dim_*) leave it any more: only the published layer.
    assert not [t for t in tables if t.startswith(("fct_", "dim_"))]


@pytest.mark.e2e
def test_a_failing_check_blocks_publication(
    published_run: PipelineRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plant an unsuppressed count of 3 in a copy of the warehouse and materialise the check
    and the publish assets in Dagster: the check fails, the publish steps do not run, and the
    published file is untouched. The publish function refuses on its own too."""
    import dagster as dg

    data = tmp_path / "data"
    (data / "published").mkdir(parents=True)
    shutil.copy(published_run.data / "warehouse.duckdb", data / "warehouse.duckdb")
    before = (published_run.data / "published" / "marts.duckdb").read_bytes()
    (data / "published" / "marts.duckdb").write_bytes(before)
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute(
            "update pub_referrals_monthly set referrals = 3, disclosure_status = 'rounded' "
            "where org_level = 'all' and referrer_type = 'All' and pathway_stage = 'All'"
        )
    monkeypatch.setenv("SP_DATA_DIR", str(data))

    from orchestration.defs.publish import definitions as publish_defs
    from orchestration.lib.resources import PipelineSettings
    from orchestration.lib.settings import load_settings

    with pytest.raises(DisclosureError, match="unsuppressed count"):
        publish_duckdb(load_settings(), publish_defs._MARTS, "direct-call")

    # The check and the publish assets as the nightly job runs them, with the dbt models as
    # already-built assets (this test does not rebuild the warehouse).
    job = dg.define_asset_job(
        "publish_only",
        selection=dg.AssetSelection.assets(
            publish_defs.published_marts, publish_defs.published_parquet
        )
        | dg.AssetSelection.checks_for_assets(*publish_defs._MART_KEYS),
    )
    defs = dg.Definitions(
        assets=[
            *(dg.AssetSpec(key) for key in publish_defs._MART_KEYS),
            publish_defs.published_marts,
            publish_defs.published_parquet,
        ],
        asset_checks=[publish_defs.published_models_disclosure_safe],
        jobs=[job],
        resources={"settings": PipelineSettings()},  # from SP_DATA_DIR, set above
    )
    # A test instance held for the whole run: Dagster keeps weak references to the instance.
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("publish_only").execute_in_process(
            raise_on_error=False, instance=instance
        )
    evaluations = result.get_asset_check_evaluations()
    failed = [e for e in evaluations if not e.passed]
    assert [e.asset_key.path[-1] for e in failed] == ["pub_referrals_monthly"]
    assert not result.get_asset_materialization_events()
    ran = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert ran == {"published_models_disclosure_safe"}  # the publish steps never started
    assert (data / "published" / "marts.duckdb").read_bytes() == before
    assert not (data / "published" / "parquet").exists()

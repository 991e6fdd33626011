"""Two audiences of the published layer: ``public`` (disclosure control) and ``internal`` (exact
aggregates for the ICB's own analysts), each in its own DuckDB file and Parquet folder. The
internal file holds exactly the warehouse's counts; the public file passes the disclosure check,
which the internal tables would fail; neither holds a person-level column, and the check refuses
one in either audience. (PostgreSQL schemas and roles per audience: tests/publishing/test_postgres.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from orchestration.lib.publish import (
    INTERNAL,
    PARQUET_LINK,
    PATIENT_LEVEL_COLUMN,
    PUBLIC,
    PUBLISHED_FILE,
    DisclosureError,
    Mart,
    audience_dir,
    disclosure_problems,
    publishable_marts,
)
from orchestration.lib.settings import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def _marts(audience: str) -> list[Mart]:
    return [m for m in publishable_marts(MANIFEST) if m.audience == audience]


def test_every_published_model_has_an_audience_and_internal_ones_are_named_so() -> None:
    marts = publishable_marts(MANIFEST)
    assert {m.audience for m in marts} == {PUBLIC, INTERNAL}
    for mart in marts:
        assert (mart.audience == INTERNAL) == mart.name.startswith("pub_internal_"), mart


def test_an_unknown_audience_refuses_the_publication(tmp_path: Path) -> None:
    """A typo in meta.audience must neither publish exact counts to the public nor drop the
    table silently."""
    manifest = json.loads(MANIFEST.read_text())
    node = next(
        n for n in manifest["nodes"].values() if n["name"] == "pub_internal_referrals_monthly"
    )
    node["config"]["meta"]["audience"] = "internel"
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(DisclosureError, match="internel"):
        publishable_marts(path)


@pytest.mark.parametrize("audience", [PUBLIC, INTERNAL])
def test_a_person_level_column_is_refused_in_either_audience(audience: str) -> None:
    con = duckdb.connect()
    con.execute(
        "create table t as select 'p1' as person_id, date '2024-01-01' as referral_month, "
        "3 as referrals, 'rounded' as disclosure_status"
    )
    problems = disclosure_problems(con, [Mart("t", "main", "", audience=audience)])
    assert any("patient-level column" in p for p in problems), problems


def test_exact_small_counts_pass_only_in_the_internal_audience() -> None:
    con = duckdb.connect()
    con.execute(
        "create table t as select 'A81001' as org_code, date '2024-01-01' as referral_month, "
        "3 as referrals"
    )
    assert disclosure_problems(con, [Mart("t", "main", "", audience=INTERNAL)]) == []
    public = disclosure_problems(con, [Mart("t", "main", "", audience=PUBLIC)])
    assert any("disclosure_status" in p for p in public), public


@pytest.fixture(scope="module")
def files(published_run: PipelineRun) -> dict[str, Path]:
    published = published_run.data / "published"
    return {a: audience_dir(published, a) / PUBLISHED_FILE for a in (PUBLIC, INTERNAL)}


def _tables(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}


@pytest.mark.e2e
def test_each_audience_has_its_own_file_and_parquet_folder(
    published_run: PipelineRun, files: dict[str, Path]
) -> None:
    """The public file stays at data/published/marts.duckdb (where readers always looked); the
    internal one is data/published/internal/marts.duckdb. Neither holds the other's tables."""
    assert files[PUBLIC] == published_run.data / "published" / "marts.duckdb"
    for audience, path in files.items():
        names = {m.name for m in _marts(audience)}
        assert _tables(path) == names | {"_publication"}, audience
        parquet = audience_dir(published_run.data / "published", audience) / PARQUET_LINK
        assert {p.stem for p in parquet.glob("*.parquet")} == names | {"_publication"}, audience


@pytest.mark.e2e
def test_the_public_file_passes_the_disclosure_check_and_the_internal_one_would_not(
    files: dict[str, Path],
) -> None:
    with duckdb.connect(str(files[PUBLIC]), read_only=True) as con:
        assert disclosure_problems(con, _marts(PUBLIC)) == []
    with duckdb.connect(str(files[INTERNAL]), read_only=True) as con:
        assert disclosure_problems(con, _marts(INTERNAL)) == []
        # The same rows judged as public (with the status column public tables carry): exact
        # counts of 1-7 and unrounded ones.
        judged = duckdb.connect()
        for mart in _marts(INTERNAL):
            rows = con.sql(f"select *, 'rounded' as disclosure_status from \"{mart.name}\"")
            judged.register("incoming", rows.to_arrow_table())
            judged.execute(f'create table "{mart.name}" as select * from incoming')
            judged.unregister("incoming")
    as_public = [
        Mart(m.name, "main", m.description, m.columns, audience=PUBLIC) for m in _marts(INTERNAL)
    ]
    problems = disclosure_problems(judged, as_public)
    assert any("1-7" in p for p in problems), problems


@pytest.mark.e2e
def test_neither_audience_has_a_person_level_column(files: dict[str, Path]) -> None:
    for audience, path in files.items():
        with duckdb.connect(str(path), read_only=True) as con:
            columns = con.execute("select table_name, column_name from duckdb_columns()").fetchall()
        assert columns, audience
        flagged = [c for c in columns if PATIENT_LEVEL_COLUMN.search(c[1])]
        assert flagged == [], (audience, flagged)


@pytest.mark.e2e
def test_internal_counts_are_the_warehouse_counts_exactly(
    published_run: PipelineRun, files: dict[str, Path]
) -> None:
    """Every practice x month and every month's ICB-wide total in the internal table equals
    the count of referral episodes in fct_referrals: no rounding, no suppression, nothing
    dropped within the published months; practice-months without a referral are there as 0."""
    with duckdb.connect(str(published_run.data / "warehouse.duckdb"), read_only=True) as wh:
        last = wh.execute(
            "select last_published_month from dim_data_coverage where series = 'referrals'"
        ).fetchone()[0]
        truth = wh.execute(
            "select coalesce(practice_code, 'unknown'), referral_month, count(*) "
            "from fct_referrals where referral_month <= ? group by all",
            [last],
        ).fetchall()
        monthly = wh.execute(
            "select referral_month, count(*) from fct_referrals where referral_month <= ? "
            "group by all",
            [last],
        ).fetchall()
    with duckdb.connect(str(files[INTERNAL]), read_only=True) as con:
        practice = con.execute(
            "select org_code, referral_month, referrals from pub_internal_referrals_monthly "
            "where org_level = 'practice' and referrer_type = 'All' and pathway_stage = 'All'"
        ).fetchall()
        total = con.execute(
            "select referral_month, referrals from pub_internal_referrals_monthly "
            "where org_level = 'all' and referrer_type = 'All' and pathway_stage = 'All'"
        ).fetchall()
        small = con.execute(
            "select count(*) from pub_internal_referrals_monthly where referrals between 1 and 7"
        ).fetchone()[0]
    # the grid's other practice x month cells (no referral that month) hold 0
    assert sorted(r for r in practice if r[2] != 0) == sorted(truth)
    assert len(practice) > len(truth)
    assert sorted(total) == sorted(monthly)
    assert small > 0, "practice x month counts of 1-7 are shown exactly in the internal audience"

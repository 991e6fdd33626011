"""The pathway tables (Social Prescribing Information Standard) as published on the tiny tier:
pub_pathway_quarterly and pub_pathway_categories (public, disclosure-controlled) and their exact
internal twins. One row per grain key; a complete PCN x quarter grid up to the data and no
further, with zero rows where nothing happened; medians and quartiles hidden with the counts
they are taken over; categories that add up where they must; the public file equal to the
internal one where nothing was hidden, up to rounding. The planted pathway facts themselves are
checked in test_planted_truth_tiny.py (with the other planted truths). Shares the session's one
pipeline run (`pipeline_tiny`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e

QUARTERLY_KEY = ("org_level", "org_code", "quarter_start")
CATEGORY_KEY = (*QUARTERLY_KEY, "category_type", "category")
# Types whose categories add up to the quarter's referrals (one per referral).
ADDITIVE = ("referrer_type", "discharge_reason")


@pytest.fixture(scope="module")
def con(pipeline_tiny: PipelineRun) -> duckdb.DuckDBPyConnection:
    """The public published file, with the internal one attached as `internal` and the
    warehouse as `wh` (read-only, for the dimensions the grid is drawn from)."""
    assert pipeline_tiny.returncode == 0, pipeline_tiny.output[-4000:]
    published = pipeline_tiny.data / "published"
    c = duckdb.connect(str(published / "marts.duckdb"), read_only=True)
    c.execute(f"attach '{published / 'internal' / 'marts.duckdb'}' as internal (read_only)")
    c.execute(f"attach '{pipeline_tiny.data / 'warehouse.duckdb'}' as wh (read_only)")
    yield c
    c.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


TABLES = [
    ("pub_pathway_quarterly", QUARTERLY_KEY),
    ("internal.pub_internal_pathway_quarterly", QUARTERLY_KEY),
    ("pub_pathway_categories", CATEGORY_KEY),
    ("internal.pub_internal_pathway_categories", CATEGORY_KEY),
]


@pytest.mark.parametrize(("table", "key"), TABLES, ids=[t for t, _ in TABLES])
def test_one_row_per_grain_key(con, table: str, key: tuple[str, ...]) -> None:
    total, distinct = con.execute(
        f"select count(*), count(distinct ({', '.join(key)})) from {table}"
    ).fetchone()
    assert total == distinct > 0


def quarters_of_the_data(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Every calendar quarter from the one the referral data starts in to the one it ends in."""
    first, last = con.execute(
        "select cast(date_trunc('quarter', data_from) as date), "
        "cast(date_trunc('quarter', last_published_month) as date) "
        "from wh.dim_data_coverage where series = 'referrals'"
    ).fetchone()
    out, q = [], first
    while q <= last:
        out.append(q)
        q = date(q.year + (q.month + 3 > 12), (q.month + 2) % 12 + 1, 1)
    return out


@pytest.mark.parametrize("table", [t for t, k in TABLES if k == QUARTERLY_KEY])
def test_a_complete_grid_of_every_pcn_and_quarter_up_to_the_data(con, table: str) -> None:
    """Every PCN of dim_pcns (and its ICB) x every quarter the data reaches, and nothing past
    it: (PCNs + ICBs) x quarters rows, the last quarter the one the data ends in."""
    quarters = quarters_of_the_data(con)
    pcns = {p for (p,) in con.execute("select pcn_code from wh.dim_pcns").fetchall()}
    icbs = {i for (i,) in con.execute("select distinct icb_code from wh.dim_pcns").fetchall()}
    got = {
        (level, code, q)
        for level, code, q in con.execute(
            f"select org_level, org_code, quarter_start from {table}"
        ).fetchall()
    }
    expected = {("pcn", p, q) for p in pcns for q in quarters}
    expected |= {("icb", i, q) for i in icbs for q in quarters}
    assert got == expected
    assert len(quarters) == 9, "tiny: March 2023 to February 2025 touches 9 quarters"


def test_quarters_are_complete_only_when_the_data_covers_them(con) -> None:
    """The tiny tier runs from 1 March 2023 to 28 February 2025: the first quarter (January to
    March 2023) and the last (January to March 2025) are covered part-way, the 7 between in full."""
    flags = {
        q: (every, some)
        for q, every, some in con.execute(
            "select quarter_start, bool_and(is_complete), bool_or(is_complete) "
            "from pub_pathway_quarterly group by 1"
        ).fetchall()
    }
    assert all(every == some for every, some in flags.values()), "one flag per quarter"
    flags = {q: every for q, (every, _) in flags.items()}
    quarters = sorted(flags)
    assert [flags[q] for q in quarters] == [False] + [True] * 7 + [False]
    financial_years = dict(
        con.execute(
            "select quarter_start, any_value(financial_year) from pub_pathway_quarterly group by 1"
        ).fetchall()
    )
    assert financial_years[date(2024, 1, 1)] == "2023/24"
    assert financial_years[date(2024, 4, 1)] == "2024/25"


def test_zero_rows_where_nothing_happened(con, pipeline_tiny: PipelineRun) -> None:
    """The PCN without a link worker refers nobody to case management: it is on the grid in
    every quarter with zeros (not missing rows), in both audiences, and its categories too."""
    (pcn,) = pipeline_tiny.manifest["referrals"]["pcns_without_link_worker"]
    for table in ("pub_pathway_quarterly", "internal.pub_internal_pathway_quarterly"):
        found = rows(
            con,
            f"select referrals, contacted_referrals, median_days_to_first_contact "
            f"from {table} where org_code = ?",
            [pcn],
        )
        assert len(found) == len(quarters_of_the_data(con))
        assert all(
            r["referrals"] == 0
            and r["contacted_referrals"] == 0
            and r["median_days_to_first_contact"] is None
            for r in found
        ), found
    zero_categories, all_categories = con.execute(
        "select count(*) filter (where referrals = 0), count(*) "
        "from internal.pub_internal_pathway_categories where org_code = ?",
        [pcn],
    ).fetchone()
    assert zero_categories == all_categories > 0


def test_medians_and_quartiles_are_hidden_with_their_counts(con) -> None:
    """Public: wherever the contacted count is hidden the median days to first contact and its
    interval are null; wherever closed cases are hidden, the sessions median, interval and
    quartiles; both happen on the tiny tier (not vacuous), and elsewhere the values are shown."""
    hidden_days = rows(
        con,
        "select * from pub_pathway_quarterly where contacted_referrals is null",
    )
    assert hidden_days, "some cell has its contacted count suppressed"
    for r in hidden_days:
        assert r["median_days_to_first_contact"] is None
        assert r["median_days_to_first_contact_ci_lower"] is None
        assert r["median_days_to_first_contact_ci_upper"] is None
        assert r["is_suppressed"] and r["disclosure_status"] == "suppressed"
    hidden_sessions = rows(
        con, "select * from pub_pathway_quarterly where discharged_referrals is null"
    )
    assert hidden_sessions
    for r in hidden_sessions:
        for column in (
            "median_sessions",
            "sessions_p25",
            "sessions_p75",
            "median_sessions_ci_lower",
        ):
            assert r[column] is None, (column, r)
    shown = rows(
        con,
        "select * from pub_pathway_quarterly where org_level = 'icb' and is_complete "
        "and contacted_referrals >= 10",
    )
    assert shown and all(r["median_days_to_first_contact"] is not None for r in shown)
    assert all(
        r["median_days_to_first_contact_ci_lower"]
        <= r["median_days_to_first_contact"]
        <= r["median_days_to_first_contact_ci_upper"]
        for r in shown
    )
    assert all(r["sessions_p25"] <= r["median_sessions"] <= r["sessions_p75"] for r in shown)


def test_public_medians_are_the_internal_ones_rounded(con) -> None:
    """Where the public row shows a median it is the exact one to 1 decimal place."""
    mismatched = con.execute(
        "select count(*) from pub_pathway_quarterly p "
        "join internal.pub_internal_pathway_quarterly i using (org_level, org_code, quarter_start) "
        "where p.median_days_to_first_contact is not null "
        "and (abs(p.median_days_to_first_contact - i.median_days_to_first_contact) > 0.05 "
        "or abs(p.median_sessions - i.median_sessions) > 0.05)"
    ).fetchone()[0]
    assert mismatched == 0


def test_categories_add_up_where_they_must(con) -> None:
    """Internal (exact): per organisation and quarter the referrer types and the discharge
    reasons add up to the 'all' row, which equals pub_internal_pathway_quarterly's referrals;
    every referral has a need (needs add up to at least the referrals); activities attended add
    up to the 'all' row's; the referrals with a 'Referral to community activity' are those with
    an onward activity, so no more than the activities' sum; a PCN's cells add up to its ICB's."""
    sums = rows(
        con,
        """
        select
            c.org_level, c.org_code, c.quarter_start, q.referrals as quarter_referrals,
            sum(c.referrals) filter (where c.category_type = 'all') as all_referrals,
            sum(c.referrals) filter (where c.category_type = 'referrer_type') as referrers,
            sum(c.referrals) filter (where c.category_type = 'discharge_reason') as discharges,
            sum(c.referrals) filter (where c.category_type = 'need') as needs,
            sum(c.referrals) filter (where c.category_type = 'onward_activity') as activities,
            sum(c.attended) filter (where c.category_type = 'onward_activity') as attended,
            sum(c.attended) filter (where c.category_type = 'all') as all_attended,
            sum(c.referrals) filter (
                where c.category = 'Referral to community activity'
            ) as community_support
        from internal.pub_internal_pathway_categories c
        join internal.pub_internal_pathway_quarterly q
            using (org_level, org_code, quarter_start)
        group by all
        """,
    )
    assert sums
    for r in sums:
        assert r["all_referrals"] == r["quarter_referrals"] == r["referrers"] == r["discharges"], r
        assert r["needs"] >= r["all_referrals"], r
        assert r["attended"] == r["all_attended"], r
        assert (r["community_support"] or 0) <= r["activities"], r
    (unbalanced,) = con.execute(
        """
        select count(*) from (
            select parent_org_code, quarter_start, category_type, category, sum(referrals) as s
            from internal.pub_internal_pathway_categories where org_level = 'pcn'
            group by all
        ) as pcns
        join internal.pub_internal_pathway_categories as icb
            on icb.org_level = 'icb' and icb.org_code = pcns.parent_org_code
            and icb.quarter_start = pcns.quarter_start and icb.category_type = pcns.category_type
            and icb.category = pcns.category
        where icb.referrals <> pcns.s
        """
    ).fetchone()
    assert unbalanced == 0
    shares = con.execute(
        "select min(share_of_referrals), max(share_of_referrals) "
        "from internal.pub_internal_pathway_categories where category_type in ('referrer_type')"
    ).fetchone()
    assert 0 <= shares[0] <= shares[1] <= 1


def test_the_public_all_row_is_the_public_quarterly_referrals(con) -> None:
    """The two public tables publish the quarter's referrals twice (quarterly `referrals`, the
    categories' 'all' row): the same value and the same suppression, or one would give the
    other away."""
    (differ,) = con.execute(
        "select count(*) from pub_pathway_quarterly q join pub_pathway_categories c "
        "using (org_level, org_code, quarter_start) where c.category_type = 'all' "
        "and q.referrals is distinct from c.referrals"
    ).fetchone()
    assert differ == 0


def test_public_counts_are_the_internal_ones_rounded_or_hidden(con) -> None:
    """Every public count is null or the exact count rounded to the nearest 5 (half up)."""
    for table, key, counts in (
        ("pathway_quarterly", QUARTERLY_KEY, ("referrals", "contacted_within_14_days")),
        ("pathway_categories", CATEGORY_KEY, ("referrals", "attended")),
    ):
        join = " and ".join(f"p.{k} = i.{k}" for k in key)
        for count in counts:
            (wrong,) = con.execute(
                f"select count(*) from pub_{table} p join internal.pub_internal_{table} i "
                f"on {join} where p.{count} is not null "
                f"and p.{count} <> cast(floor((i.{count} + 2.5) / 5) * 5 as bigint)"
            ).fetchone()
            assert wrong == 0, (table, count)


def test_published_to_parquet_beside_the_duckdb_file(pipeline_tiny: PipelineRun) -> None:
    published = pipeline_tiny.data / "published"
    for folder, names in (
        (published / "parquet", ("pub_pathway_quarterly", "pub_pathway_categories")),
        (
            published / "internal" / "parquet",
            ("pub_internal_pathway_quarterly", "pub_internal_pathway_categories"),
        ),
    ):
        for name in names:
            path = Path(folder) / f"{name}.parquet"
            with duckdb.connect() as reader:
                (n,) = reader.execute(
                    "select count(*) from read_parquet(?)", [str(path)]
                ).fetchone()
            assert n > 0, path

"""The published layer as a BI tool sees it, on the session's tiny run (`published_run`):
organisation and date dimensions that every published table joins to, complete grids (every
organisation x period has a row, 0 where nothing happened), zeros that disclosure control leaves
as 0, and the new rolling-equity and quarterly-wellbeing tables' grains.

Planted truth from the estate's manifest (`landing/_manifest.json`): practice Z10002 moves from
PCN U91001 to U91002 on 2024-03-01; PCN U91003 (practices Z10005, Z10006) has no link worker,
so no referrals and no wellbeing scores: its rows must be there, with 0.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import duckdb
import pytest

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e

# Every published public table and its organisation (level expression, code column) and period
# column: constants, the only names these tests put into SQL text.
ORG_COLUMNS = {
    "pub_referrals_monthly": ("org_level", "org_code", "referral_month"),
    "pub_referral_coverage": ("org_level", "org_code", "month_start"),
    "pub_referral_equity": ("org_level", "org_code", None),
    "pub_referral_equity_rolling": ("org_level", "org_code", "window_end_month"),
    "pub_referrals_spc": ("org_level", "org_code", "month_start"),
    "pub_wellbeing_outcomes": ("org_level", "org_code", None),
    "pub_wellbeing_quarterly": ("org_level", "org_code", "baseline_quarter"),
    "pub_clinician_survey": ("org_level", "org_code", None),
    "pub_workforce_pcn_month": ("'pcn'", "pcn_code", "census_month"),
    "pub_workforce_trajectory": ("'icb'", "icb_code", "census_month"),
    "pub_utilisation_savings": ("'pcn'", "pcn_code", "index_quarter"),
    "pub_utilisation_savings_headline": ("'icb'", "icb_code", None),
}
NO_LINK_WORKER_PCN = "U91003"


@pytest.fixture(scope="module")
def pub(published_run: PipelineRun) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(published_run.data / "published" / "marts.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def internal(published_run: PipelineRun) -> duckdb.DuckDBPyConnection:
    path = published_run.data / "published" / "internal" / "marts.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    return con.execute(sql, params or []).fetchone()[0]


def test_the_organisation_dimension_keeps_the_hierarchy_as_it_was(
    pub: duckdb.DuckDBPyConnection, published_run: PipelineRun
) -> None:
    """One row per level x organisation x interval; the planted PCN move gives the practice two
    intervals meeting on the move date, each with its PCN's name; every level is there with
    names, and 'all' and 'unknown' members make every published code joinable."""
    move = published_run.manifest["organisations"]["pcn_move"]
    assert _count(pub, "select count(*) from pub_dim_organisations") == _count(
        pub, "select count(distinct (org_level, org_code, valid_from)) from pub_dim_organisations"
    )
    rows = pub.execute(
        "select pcn_code, pcn_name, valid_from, valid_to, is_current from pub_dim_organisations "
        "where org_level = 'practice' and org_code = ? order by valid_from",
        [move["practice"]],
    ).fetchall()
    moved = dt.date.fromisoformat(move["date"])
    assert [(r[0], r[3], r[4]) for r in rows] == [
        (move["from_pcn"], moved, False),
        (move["to_pcn"], None, True),
    ]
    assert rows[1][2] == moved
    names = {p["code"]: p["name"] for p in published_run.manifest["organisations"]["pcns"]}
    assert [r[1] for r in rows] == [names[move["from_pcn"]], names[move["to_pcn"]]]
    levels = dict(
        pub.execute(
            "select org_level, count(distinct org_code) filter (where org_code <> 'unknown') "
            "from pub_dim_organisations group by 1"
        ).fetchall()
    )
    organisations = published_run.manifest["organisations"]
    assert levels == {
        "practice": len(organisations["practices"]),
        "pcn": len(organisations["pcns"]),
        "sub_icb": len(organisations["sub_icbs"]),
        "icb": len(organisations["icbs"]),
        "all": 1,
    }
    assert _count(pub, "select count(*) from pub_dim_organisations where org_name is null") == 0
    statuses = pub.execute(
        "select distinct disclosure_status from pub_dim_organisations"
    ).fetchall()
    assert statuses == [("exempt",)]


def test_the_dates_dimension_is_one_row_per_month_with_financial_years(
    pub: duckdb.DuckDBPyConnection,
) -> None:
    months = [
        r[0] for r in pub.execute("select month_start from pub_dim_dates order by 1").fetchall()
    ]
    assert len(months) == len(set(months)) > 12
    for a, b in zip(months, months[1:], strict=False):
        assert (b.year * 12 + b.month) - (a.year * 12 + a.month) == 1, (a, b)
    labels = dict(
        (r[0], r[1:])
        for r in pub.execute(
            "select month_start, financial_year, financial_quarter, financial_quarter_label, "
            "calendar_quarter, month_end from pub_dim_dates "
            "where month_start in (date '2024-03-01', date '2024-04-01', date '2024-12-01')"
        ).fetchall()
    )
    assert labels[dt.date(2024, 3, 1)] == ("2023/24", 4, "2023/24 Q4", 1, dt.date(2024, 3, 31))
    assert labels[dt.date(2024, 4, 1)] == ("2024/25", 1, "2024/25 Q1", 2, dt.date(2024, 4, 30))
    assert labels[dt.date(2024, 12, 1)] == ("2024/25", 3, "2024/25 Q3", 4, dt.date(2024, 12, 31))


@pytest.mark.parametrize("table", sorted(ORG_COLUMNS))
def test_every_published_row_joins_the_dimensions(pub: duckdb.DuckDBPyConnection, table) -> None:
    """A BI inner join on the organisation (at its level, in an interval valid for the row's
    period) and on the month drops no row of any public table."""
    level, code, period = ORG_COLUMNS[table]
    valid = (
        f"and (t.{period} >= o.valid_from or o.is_first_interval) "
        f"and (o.valid_to is null or t.{period} < o.valid_to)"
        if period
        else ""
    )
    unmatched = _count(
        pub,
        f"select count(*) from {table} as t where not exists (select 1 from "
        f"pub_dim_organisations as o where o.org_level = {level.replace('org_level', 't.org_level')} "
        f"and o.org_code = t.{code} {valid})",
    )
    assert unmatched == 0, table
    if period:
        assert (
            _count(
                pub,
                f"select count(*) from {table} as t where t.{period} not in "
                "(select month_start from pub_dim_dates)",
            )
            == 0
        ), table


def _orgs_in_month(pub: duckdb.DuckDBPyConnection, level: str, month: dt.date) -> int:
    return _count(
        pub,
        "select count(distinct org_code) from pub_dim_organisations where org_level = ? "
        "and org_code <> 'unknown' and (valid_from <= ? or is_first_interval) "
        "and (valid_to is null or valid_to > ?)",
        [level, month, month],
    )


def test_referrals_monthly_is_a_complete_grid_with_zeros(pub: duckdb.DuckDBPyConnection) -> None:
    """Rows = sum over months of (organisations valid in the month) x referrer types x stages;
    the planted PCN without a link worker, and its practices, show 0 referrals every month."""
    months = [
        r[0]
        for r in pub.execute("select distinct referral_month from pub_referrals_monthly").fetchall()
    ]
    referrers = _count(pub, "select count(distinct referrer_type) from pub_referrals_monthly")
    stages = _count(pub, "select count(distinct pathway_stage) from pub_referrals_monthly")
    expected = sum(
        sum(_orgs_in_month(pub, level, m) for level in ("practice", "pcn", "icb")) + 1
        for m in months
    )
    got = _count(pub, "select count(*) from pub_referrals_monthly where org_code <> 'unknown'")
    assert got == expected * referrers * stages
    zero = pub.execute(
        "select count(*), count(*) filter (where referrals = 0 and contacted_episodes = 0 "
        "and not is_suppressed) from pub_referrals_monthly where org_level = 'pcn' and org_code = ?",
        [NO_LINK_WORKER_PCN],
    ).fetchone()
    assert zero[0] == len(months) * referrers * stages and zero[1] == zero[0], zero


def test_zeros_stay_zero_under_disclosure_control(
    pub: duckdb.DuckDBPyConnection, internal: duckdb.DuckDBPyConnection
) -> None:
    """Every cell the internal (exact) table holds as 0 is 0 in the public table, not null."""
    keys = "org_level, org_code, referral_month, referrer_type, pathway_stage"
    exact = {
        r[:5]: r[5]
        for r in internal.execute(
            f"select {keys}, referrals from pub_internal_referrals_monthly"
        ).fetchall()
    }
    public = {
        r[:5]: r[5]
        for r in pub.execute(f"select {keys}, referrals from pub_referrals_monthly").fetchall()
    }
    assert exact.keys() == public.keys()
    zeros = [k for k, v in exact.items() if v == 0]
    assert len(zeros) > 100, "the grid must hold zero cells"
    assert [k for k in zeros if public[k] != 0] == []


@pytest.mark.parametrize(
    ("table", "period", "level_sql", "extra"),
    [
        ("pub_referrals_spc", "month_start", "org_level in ('pcn', 'icb')", ""),
        ("pub_referral_coverage", "month_start", "org_level in ('practice', 'pcn')", ""),
        ("pub_workforce_pcn_month", "census_month", "true", ""),
        ("pub_utilisation_savings", "index_quarter", "true", "activity_code"),
        ("pub_referral_equity_rolling", "window_end_month", "true", "dimension_value"),
        ("pub_wellbeing_quarterly", "baseline_quarter", "true", "measure_code"),
    ],
)
def test_time_series_grids_are_complete(
    pub: duckdb.DuckDBPyConnection, table, period, level_sql, extra
) -> None:
    """organisations x periods (x the table's breakdown) rows, no more, no fewer, and the PCN
    without a link worker is in every period."""
    org = (
        "org_level, org_code" if table.startswith(("pub_referral", "pub_wellbeing")) else "pcn_code"
    )
    breakdown = f"{extra}, " if extra else ""
    if table == "pub_referral_equity_rolling":
        breakdown = "dimension, dimension_value, "
    rows, cells, orgs, periods, kinds = pub.execute(
        f"select count(*), count(distinct ({org}, {breakdown}{period})), "
        f"count(distinct ({org})), count(distinct {period}), "
        f"count(distinct ({breakdown}true)) from {table} where {level_sql}"
    ).fetchone()
    assert rows == cells == orgs * periods * kinds, (rows, cells, orgs, periods, kinds)
    code = "pcn_code" if org == "pcn_code" else "org_code"
    assert (
        _count(
            pub,
            f"select count(distinct {period}) from {table} where {code} = ?",
            [NO_LINK_WORKER_PCN],
        )
        == periods
    )


def test_organisations_without_activity_have_zero_rows(pub: duckdb.DuckDBPyConnection) -> None:
    """The PCN without a link worker: 0 referred people in every rolling equity window, 0 people
    with a wellbeing baseline in every quarter, 0 paired episodes per measure, 0 referred
    people in every savings quarter -- never null, never missing."""
    for sql in (
        "select count(*), count(*) filter (where referred_people = 0) "
        "from pub_referral_equity_rolling where org_level = 'pcn' and org_code = ?",
        "select count(*), count(*) filter (where people_with_baseline = 0 "
        "and people_followed_up = 0 and mean_change is null) "
        "from pub_wellbeing_quarterly where org_level = 'pcn' and org_code = ?",
        "select count(*), count(*) filter (where paired_episodes = 0 and improved_episodes = 0) "
        "from pub_wellbeing_outcomes where org_level = 'pcn' and org_code = ?",
        "select count(*), count(*) filter (where referred_people = 0 and did_per_person is null) "
        "from pub_utilisation_savings where pcn_code = ?",
    ):
        rows, zeros = pub.execute(sql, [NO_LINK_WORKER_PCN]).fetchone()
        assert rows > 0 and zeros == rows, sql


def test_rolling_equity_and_quarterly_wellbeing_stay_within_the_data(
    pub: duckdb.DuckDBPyConnection, published_run: PipelineRun
) -> None:
    """No rolling window ends after the month the data ends in, every window starts within the
    data (12 months), and the last quarter is the one the data ends in."""
    end = dt.date.fromisoformat(published_run.manifest["period"]["end"])
    start = dt.date.fromisoformat(published_run.manifest["period"]["start"])
    first, last, spans = pub.execute(
        "select min(window_start_month), max(window_end_month), "
        "count(distinct date_diff('month', window_start_month, window_end_month)) "
        "from pub_referral_equity_rolling"
    ).fetchone()
    assert last == end.replace(day=1)
    assert first >= start.replace(day=1)
    assert spans == 1
    (quarter,) = pub.execute("select max(baseline_quarter) from pub_wellbeing_quarterly").fetchone()
    assert quarter == dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)

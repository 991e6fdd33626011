"""Completeness is data: each source's "data through" date comes from what was loaded, every
published time series flags its periods (``is_complete``), a rolling 12-month window is complete
only when the data covers both its ends, and nothing is published past the data.

Planted truth: the tiny estate's period ends on 2025-02-28 (``landing/_manifest.json``), while
its reference data (registered population) runs a month further, to 2025-03-01 — the month the
coverage table used to publish. A month the data ends part-way through is made from a copy of
the run's raw zone whose case-management pull stopped on 2025-02-14 (every change after it taken
away, as if the pull had run on the morning of the 15th), rebuilt with dbt.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from orchestration.lib.settings import DBT_EXECUTABLE
from schemas import case_management

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
PERIOD_END_MONTH = dt.date(2025, 2, 1)
# Every published time series and its period column (constants: the only names the tests
# put into SQL text).
SERIES = {
    "pub_referrals_monthly": "referral_month",
    "pub_referral_coverage": "month_start",
    "pub_referrals_spc": "month_start",
    "pub_referral_equity_rolling": "window_end_month",
    "pub_workforce_pcn_month": "census_month",
    "pub_workforce_trajectory": "census_month",
    "pub_internal_referrals_monthly": "referral_month",
    "pub_internal_referral_coverage": "month_start",
}


@pytest.fixture(scope="module")
def wh(pipeline_tiny: PipelineRun) -> duckdb.DuckDBPyConnection:
    assert pipeline_tiny.returncode == 0, pipeline_tiny.output[-4000:]
    con = duckdb.connect(str(pipeline_tiny.data / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def test_every_source_runs_through_the_estates_period_end(wh, pipeline_tiny) -> None:
    end = dt.date.fromisoformat(pipeline_tiny.manifest["period"]["end"])
    start = dt.date.fromisoformat(pipeline_tiny.manifest["period"]["start"])
    sources = dict(
        wh.execute("select source_system, data_through from int_sources_data_through").fetchall()
    )
    assert sources == dict.fromkeys(
        ["gp_emis", "gp_systmone", "acute", "case_management", "workforce"], end
    )
    coverage = wh.execute(
        "select series, data_from, data_through, last_complete_month, last_published_month "
        "from dim_data_coverage order by series"
    ).fetchall()
    assert coverage == [
        (series, start, end, PERIOD_END_MONTH, PERIOD_END_MONTH)
        for series in ("referrals", "utilisation", "workforce")
    ]


def test_nothing_is_published_past_the_data(wh) -> None:
    """The population snapshots reach 2025-03-01, a month past the referral data: no published
    table, in either audience, has a period after February 2025, and every period up to it is
    complete (the tiny estate ends on a month's last day)."""
    (snapshot,) = wh.execute(
        "select max(snapshot_date) from stg_reference__registered_patients"
    ).fetchone()
    assert snapshot >= dt.date(2025, 3, 1), "the guard would not be exercised"
    for table, period in SERIES.items():
        last, incomplete = wh.execute(
            f"select max({period}), count(*) filter (where not is_complete) from {table}"
        ).fetchone()
        assert last == PERIOD_END_MONTH, table
        assert incomplete == 0, table


def test_a_savings_quarter_is_complete_once_everyone_referred_in_it_has_a_whole_after_window(
    wh,
) -> None:
    """The after-window is 6 months: the data (to 2025-02-28) covers the quarters to April-June
    2024 for everyone referred in them; July-September 2024 holds only the people referred early
    enough, so it is published flagged."""
    flags = dict(
        wh.execute(
            "select index_quarter, bool_and(is_complete) from pub_utilisation_savings group by all"
        ).fetchall()
    )
    assert max(flags) == dt.date(2024, 7, 1)
    assert flags.pop(dt.date(2024, 7, 1)) is False
    assert set(flags.values()) == {True}


def test_rolling_12_months_complete_from_the_first_whole_window(wh, pipeline_tiny) -> None:
    """Referral data starts 2023-03-01: the first window published ends in February 2024
    (March 2023 - February 2024), earlier ones are left out, and each one is complete. The
    estate plants referrals at 1 % of the population a year at practices with a link worker;
    the ICB (which has practices without one) is inside the 0.8-1.2 % band over the last
    complete 12 months."""
    first, last = wh.execute(
        "select min(month_start), max(month_start) from pub_internal_referral_coverage"
    ).fetchone()
    assert (first, last) == (dt.date(2024, 2, 1), PERIOD_END_MONTH)
    assert wh.execute(
        "select count(*) from pub_referral_coverage where month_start < date '2024-02-01'"
    ).fetchone() == (0,)
    referrals, population, rate = wh.execute(
        "select referrals_12m, registered_patients, coverage_rate "
        "from pub_internal_referral_coverage where org_level = 'icb' and month_start = ?",
        [PERIOD_END_MONTH],
    ).fetchone()
    assert pipeline_tiny.manifest["referrals"]["annual_coverage_target"] == 0.01
    assert 0.008 <= rate <= 0.012, (referrals, population, rate)


def _dbt_run(data: Path, select: list[str]) -> None:
    proc = subprocess.run(
        [str(DBT_EXECUTABLE), "run", "--select", *select]
        + ["--profiles-dir", str(PROJECT), "--project-dir", str(PROJECT)],
        cwd=PROJECT,
        env={**os.environ, "SP_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]


@pytest.fixture(scope="module")
def part_way(pipeline_tiny: PipelineRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the run whose case-management pull stopped at the end of 2025-02-14, rebuilt."""
    assert pipeline_tiny.returncode == 0, pipeline_tiny.output[-4000:]
    data = tmp_path_factory.mktemp("part_way") / "data"
    data.mkdir()
    shutil.copytree(pipeline_tiny.data / "raw", data / "raw")
    for zone in ("audit", "quarantine"):
        (data / zone).symlink_to(pipeline_tiny.data / zone)
    shutil.copy(pipeline_tiny.data / "warehouse.duckdb", data / "warehouse.duckdb")
    for table in (spec.table for spec in case_management.EXTRACTS):
        for part in (data / "raw" / table).glob("extract_date=*/*.parquet"):
            tmp = part.with_name("rewritten.parquet.tmp")
            # Physical columns only: extract_date is the folder's.
            duckdb.read_parquet(str(part), hive_partitioning=False).filter(
                "last_modified < timestamp '2025-02-15'"
            ).write_parquet(str(tmp))
            tmp.replace(part)
    _dbt_run(
        data,
        [
            "+pub_referrals_monthly",
            "+pub_internal_referrals_monthly",
            "+pub_referral_coverage",
            "+pub_internal_referral_coverage",
            "+pub_referrals_spc",
            "+pub_referral_equity_rolling",
        ],
    )
    return data


def test_the_month_the_data_ends_part_way_through_is_flagged(part_way: Path) -> None:
    with duckdb.connect(str(part_way / "warehouse.duckdb"), read_only=True) as con:
        through, last_complete, last_published = con.execute(
            "select data_through, last_complete_month, last_published_month "
            "from dim_data_coverage where series = 'referrals'"
        ).fetchone()
        # The newest change pulled is on or just before the 14th (a day may have none).
        assert dt.date(2025, 2, 10) <= through <= dt.date(2025, 2, 14)
        assert (last_complete, last_published) == (dt.date(2025, 1, 1), PERIOD_END_MONTH)
        for table, period in SERIES.items():
            if "workforce" in table:
                continue  # the workforce returns still run to 2025-02-28
            flags = dict(
                con.execute(
                    f"select {period}, bool_and(is_complete) from {table} "
                    f"where {period} >= date '2025-01-01' group by all"
                ).fetchall()
            )
            assert flags == {dt.date(2025, 1, 1): True, PERIOD_END_MONTH: False}, table
        # On the SPC chart the partial month is shown but raises no special cause: it is out of
        # the limits and carries no rule flags.
        flags = con.execute(
            "select count(*), count(is_special_cause), count(variation_type) "
            "from pub_referrals_spc where not is_complete"
        ).fetchone()
        assert flags[0] > 0 and flags[1:] == (0, 0)
        # The incomplete month is still published, exactly in the internal audience.
        exact, published = con.execute(
            "select (select count(*) from fct_referrals where referral_month = date '2025-02-01'), "
            "(select referrals from pub_internal_referrals_monthly where org_level = 'all' "
            "and referrer_type = 'All' and pathway_stage = 'All' "
            "and referral_month = date '2025-02-01')"
        ).fetchone()
        assert exact == published > 0
        # The public coverage still leaves out windows starting before the data and shows the
        # partial one, flagged.
        windows = con.execute(
            "select month_start, is_complete from pub_referral_coverage "
            "where org_level = 'pcn' group by all order by 1"
        ).fetchall()
    assert windows[0][0] == dt.date(2024, 2, 1)
    assert windows[-1] == (PERIOD_END_MONTH, False)

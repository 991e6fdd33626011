"""The published savings headline: one row per ICB and measure, an aggregate over every
referred person that passes disclosure control for the public, with the benchmarks beside it,
and shown in the report."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import duckdb
import pytest

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e

MEASURES = {
    "gp_appointments": "contacts",
    "ae_attendances": "contacts",
    "nel_admissions": "contacts",
    "op_attendances": "contacts",
    "secondary_care_cost_gbp": "gbp",
    "total_cost_gbp": "gbp",
    "kgco2e": "kgco2e",
}


@pytest.fixture(scope="module")
def headline(published_run: PipelineRun) -> list[dict]:
    con = duckdb.connect(str(published_run.data / "published" / "marts.duckdb"), read_only=True)
    try:
        rel = con.sql("select * from pub_utilisation_savings_headline")
        return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]
    finally:
        con.close()


def test_one_row_per_icb_and_measure(headline: list[dict]) -> None:
    keys = [(r["icb_code"], r["measure_code"]) for r in headline]
    assert len(keys) == len(set(keys)), "the grain is ICB x measure"
    for icb in {r["icb_code"] for r in headline}:
        rows = {r["measure_code"]: r for r in headline if r["icb_code"] == icb}
        assert {m: r["measure_unit"] for m, r in rows.items()} == MEASURES
        # every measure is estimated over the same referred people
        assert len({r["referred_people"] for r in rows.values()}) == 1


def test_the_headline_passes_disclosure_control_and_is_published_whole(
    headline: list[dict],
) -> None:
    """The tiny ICB has ~130 referred people: far above 1-7, so nothing is suppressed; counts
    are rounded to 5 and the totals are recomputed from the published (rounded) figures, so
    they never give back the exact number of people."""
    for r in headline:
        assert r["disclosure_status"] == "rounded" and not r["is_suppressed"], r
        assert r["referred_people"] % 5 == 0 and r["comparison_people"] % 5 == 0
        assert math.isclose(
            r["avoided_total"], -r["did_per_person"] * r["referred_people"], abs_tol=1e-9
        )
        assert r["did_ci_lower"] <= r["did_per_person"] <= r["did_ci_upper"]
        assert r["avoided_total_ci_lower"] <= r["avoided_total"] <= r["avoided_total_ci_upper"]
        assert round(r["did_per_person"], 3) == r["did_per_person"], "means rounded to 3 places"


def test_benchmarks_beside_the_relative_change(headline: list[dict]) -> None:
    by_measure = {r["measure_code"]: r for r in headline}
    gp, secondary = by_measure["gp_appointments"], by_measure["secondary_care_cost_gbp"]
    assert gp["benchmark_relative_change"] == -0.40
    assert secondary["benchmark_relative_change"] == -0.27
    for r in (gp, secondary):
        inside = r["relative_change_ci_lower"] <= r["benchmark_relative_change"]
        inside = inside and r["benchmark_relative_change"] <= r["relative_change_ci_upper"]
        assert r["is_benchmark_within_ci"] is inside
        assert r["benchmark_source"]
    assert by_measure["ae_attendances"]["benchmark_relative_change"] is None
    assert by_measure["ae_attendances"]["is_benchmark_within_ci"] is None
    # the money rows say what they value and what they leave out
    assert "nel_admission" in secondary["valued_activities"]
    assert "gp_appointment" not in secondary["valued_activities"]
    assert by_measure["total_cost_gbp"]["unvalued_activities"] == "gp_dna"


def test_the_report_shows_the_headline(published_run: PipelineRun) -> None:
    page = (published_run.data / "docs" / "report" / "index.html").read_text()
    assert page.count('data-table="savings"') == 1
    assert "Secondary-care cost" in page and "-40%" in page and "-27%" in page

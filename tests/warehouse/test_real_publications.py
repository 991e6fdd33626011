"""The real NHS publications, unchanged, through the whole pipeline: a landing area holding only
NHS England's July 2026 practice mapping and registered-patients files and the June 2026 PCN
workforce individual-level CSV (in `../shared/data`, never copied into the repository). The
reference dimensions and workforce marts must reproduce the publications' own national totals.

Expected values are the publications' (see ../shared/data/SOURCES.md): 63,436,508 registered
patients (sum of practice totals), 2,351 SPLWs (distinct UNIQUE_IDENTIFIER among NWRS Staff
rows, both roles), 2,752.5 SPLW FTE (both roles, every row including contracted services),
SPLWs in 1,079 PCNs. Skips when the shared data is absent.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

ROOT = Path(__file__).resolve().parents[2]
# ../shared/data beside the repository; SP_SHARED_DATA points elsewhere (e.g. a checkout in /tmp)
SHARED = Path(os.environ.get("SP_SHARED_DATA", ROOT.parent / "shared" / "data"))
FILES = {
    "reference/2026-07-01": [
        SHARED / "ods" / "gp-reg-pat-prac-map.csv",
        SHARED / "registered_patients" / "gp-reg-pat-prac-quin-age.csv",
    ],
    "workforce/2026-06-30": [SHARED / "workforce" / "pcn_workforce_individual_level_jun2026.csv"],
}
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not all(p.exists() for paths in FILES.values() for p in paths),
        reason=f"the real NHS publications are not in {SHARED}",
    ),
]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> PipelineRun:
    from pipeline_runs import run_pipeline

    data = tmp_path_factory.mktemp("real") / "data"
    for folder, paths in FILES.items():
        target = data / "landing" / folder
        target.mkdir(parents=True)
        for path in paths:
            shutil.copy2(path, target / path.name)  # byte-for-byte: the files as published
    # No case-management system in this landing area: the JSON-export mode finds no export
    # and loads nothing (the database mode would retry a database that does not exist).
    run = run_pipeline(data, tmp_path_factory.mktemp("dagster_home_real"), SP_CMS_SOURCE="json")
    assert run.returncode == 0, run.output[-4000:]
    return run


@pytest.fixture(scope="module")
def wh(real_run: PipelineRun) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(real_run.data / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def test_registered_population_total(wh) -> None:
    """Exact: practice totals in dim_practices sum to the publication's 63,436,508, over its
    6,139 practices."""
    practices, total = wh.execute(
        "select count(*), sum(registered_patients) from dim_practices"
    ).fetchone()
    assert practices == 6139
    assert total == 63_436_508


def test_pcn_dimension_handles_the_unallocated_placeholder(wh) -> None:
    """PCN code U (unallocated practices, spanning several ICBs) is one flagged row, never a
    PCN the workforce marts count; the mapping's 1,298 real PCNs are all there."""
    rows = wh.execute("select pcn_code from dim_pcns where is_unallocated").fetchall()
    assert rows == [("U",)]
    real_pcns = wh.execute("select count(*) from dim_pcns where not is_unallocated").fetchone()[0]
    assert real_pcns >= 1298
    in_marts = wh.execute(
        "select count(*) from fct_workforce_pcn_month where pcn_code = 'U'"
    ).fetchone()[0]
    assert in_marts == 0


def test_splw_headcount_and_pcns_with_a_link_worker(wh) -> None:
    """Exact: 2,351 distinct SPLWs nationally, in 1,079 PCNs; ICB headcounts (distinct per ICB)
    add up to the national figure, so nobody is double counted across PCNs of one ICB."""
    headcount, pcns_with = wh.execute(
        "select splw_headcount, pcns_with_link_worker from fct_workforce_england_month "
        "where census_month = date '2026-06-01'"
    ).fetchone()
    assert headcount == 2351
    assert pcns_with == 1079
    pcn_rows = wh.execute(
        "select count(*) from fct_workforce_pcn_month where has_link_worker"
    ).fetchone()[0]
    assert pcn_rows == 1079
    icb_sum = wh.execute("select sum(splw_headcount) from fct_workforce_trajectory").fetchone()[0]
    assert icb_sum == 2351


def test_splw_fte_total(wh) -> None:
    """Exact to 0.05 FTE: 2,752.5 FTE, both roles, every row including contracted services."""
    fte = wh.execute(
        "select splw_fte from fct_workforce_england_month where census_month = date '2026-06-01'"
    ).fetchone()[0]
    assert fte == pytest.approx(2752.5, abs=0.05)


def test_no_workforce_row_is_quarantined(real_run: PipelineRun) -> None:
    """Identical lines are separate contracted-service records in this publication (no
    identifier): they are all loaded, none held back as duplicates."""
    quarantine = real_run.data / "quarantine" / "workforce_pcn_individual"
    rows = (
        duckdb.sql(f"select count(*) from read_parquet('{quarantine}/*/*.parquet')").fetchall()[0][
            0
        ]
        if quarantine.exists()
        else 0
    )
    assert rows == 0


def test_what_was_built_is_published_and_the_rest_is_named(real_run: PipelineRun) -> None:
    """Only workforce and reference data landed: their published marts go out; the marts whose
    sources have never landed are not published, and the run says so (a warning, not a
    failure — an ICB can start with its workforce returns alone)."""
    published = real_run.data / "published" / "marts.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        tables = {t for (t,) in con.execute("show tables").fetchall()}
    assert {"pub_workforce_pcn_month", "pub_workforce_trajectory"} <= tables
    assert "pub_referrals_monthly" not in tables
    assert "WARN  pub_referrals_monthly:disclosure_safe" in real_run.output

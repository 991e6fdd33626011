"""The static report is built from the published files alone and draws every kind of chart: the
internal audience's exact file where it sits beside the public one (so the SPC charts of a
sparse estate have points), the public file alone otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from orchestration.lib.publish.report import build_report

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e

KINDS = ("spc", "spc_icb", "qi_effects", "trajectory", "coverage", "equity", "wellbeing", "savings")


def test_the_pipeline_built_the_report(published_run: PipelineRun) -> None:
    page = (published_run.data / "docs" / "report" / "index.html").read_text()
    for chart in KINDS:
        assert f'data-chart="{chart}"' in page, chart
    assert "internal: exact counts, not for publication" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")


def test_report_reads_the_internal_file_beside_the_public_one(
    published_run: PipelineRun, tmp_path: Path
) -> None:
    # Only the published files are handed over: no warehouse, no zones.
    published = tmp_path / "published"
    shutil.copytree(
        published_run.data / "published",
        published,
        ignore=shutil.ignore_patterns("parquet", ".parquet-*"),
    )
    out = tmp_path / "report" / "index.html"
    drawn = build_report(published / "marts.duckdb", out)
    # Internal weekly charts: the ICB, both PCNs, the three QI practices; and the public ICB one.
    assert drawn["spc"] >= 5 and drawn["spc_icb"] == 2
    assert drawn["qi_effects"] == 1 and drawn["trajectory"] >= 1
    assert drawn["coverage"] >= 3 and drawn["equity"] >= 4
    assert drawn["wellbeing"] >= 1 and drawn["savings"] >= 1
    page = out.read_text()
    assert page.count('<svg class="chart"') == sum(drawn.values())
    for practice in ("Z10001", "Z10003", "Z10004"):
        assert f'data-org="{practice}"' in page
    assert "person_id" not in page


def test_report_from_the_public_file_alone(published_run: PipelineRun, tmp_path: Path) -> None:
    published = tmp_path / "marts.duckdb"
    published.write_bytes((published_run.data / "published" / "marts.duckdb").read_bytes())
    out = tmp_path / "report" / "index.html"
    drawn = build_report(published, out)
    page = out.read_text()
    assert "not for publication" not in page and 'data-audience="internal"' not in page
    # The public ICB chart draws (most months shown); a PCN whose every month is suppressed
    # says so instead of drawing an empty chart.
    assert drawn["spc_icb"] == 1 and drawn["qi_effects"] == 0
    assert "suppressed by disclosure control (counts 1-7): nothing to draw" in page
    assert drawn["trajectory"] >= 1 and drawn["equity"] >= 4 and drawn["savings"] >= 1
    assert page.count('<svg class="chart"') == sum(drawn.values())


def test_the_page_is_the_same_whichever_number_of_processes_draws_it(
    published_run: PipelineRun, tmp_path: Path
) -> None:
    # The sections are drawn in worker processes (one per core); the page must not depend on it.
    published = published_run.data / "published" / "marts.duckdb"
    pages = {}
    for workers in (1, 2):
        out = tmp_path / f"report-{workers}" / "index.html"
        drawn = build_report(published, out, workers=workers)
        pages[workers] = out.read_bytes()
        assert drawn["spc"] >= 5, drawn
    assert pages[1] == pages[2]

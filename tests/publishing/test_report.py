"""The static report is built from the published file alone and draws every kind of chart."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from orchestration.lib.report import build_report

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e


def test_the_pipeline_built_the_report(published_run: PipelineRun) -> None:
    page = (published_run.data / "docs" / "report" / "index.html").read_text()
    for chart in ("spc", "trajectory", "coverage", "equity"):
        assert f'data-chart="{chart}"' in page


def test_report_from_the_published_file_only(published_run: PipelineRun, tmp_path: Path) -> None:
    # Only the published file is handed over: no warehouse, no zones.
    published = tmp_path / "marts.duckdb"
    published.write_bytes((published_run.data / "published" / "marts.duckdb").read_bytes())
    out = tmp_path / "report" / "index.html"
    drawn = build_report(published, out)
    assert drawn["spc"] >= 2 and drawn["trajectory"] >= 1
    assert drawn["coverage"] >= 1 and drawn["equity"] >= 4
    page = out.read_text()
    assert page.count("<svg") == sum(drawn.values())
    assert "person_id" not in page

"""The README's first way in: the DuckDB command-line client that comes with the venv opens the
published file read-only and answers the README's example question."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e

CLI = Path(sys.executable).parent / "duckdb"


def test_the_venv_cli_answers_the_readme_question(published_run: PipelineRun) -> None:
    published = published_run.data / "published" / "marts.duckdb"
    proc = subprocess.run(
        [
            str(CLI),
            "-readonly",
            "-csv",
            str(published),
            "-c",
            "select pcn_code, census_month, splw_headcount, splw_fte, has_link_worker "
            "from pub_workforce_pcn_month order by census_month desc, pcn_code limit 10",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    header, *rows = proc.stdout.strip().splitlines()
    assert header == "pcn_code,census_month,splw_headcount,splw_fte,has_link_worker"
    assert len(rows) == 10


def test_the_cli_cannot_write_the_published_file(published_run: PipelineRun) -> None:
    published = published_run.data / "published" / "marts.duckdb"
    proc = subprocess.run(
        [str(CLI), "-readonly", str(published), "-c", "create table x as select 1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "read-only" in (proc.stdout + proc.stderr).lower()

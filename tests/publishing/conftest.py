"""Fixtures for the publishing tests: the session's tiny pipeline run and the throwaway
PostgreSQL server (tests/conftest.py), and the published marts read back from the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

ROOT = Path(__file__).resolve().parents[2]

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun


@pytest.fixture(scope="session")
def published_run(pipeline_tiny: PipelineRun) -> PipelineRun:
    """The session's nightly run on the tiny estate (tests/conftest.py), which must have published."""
    assert pipeline_tiny.returncode == 0, pipeline_tiny.output[-4000:]
    assert (pipeline_tiny.data / "published" / "marts.duckdb").exists()
    return pipeline_tiny

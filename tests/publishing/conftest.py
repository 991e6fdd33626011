"""Fixtures for the publishing tests: the session's tiny pipeline run (tests/conftest.py), a
throwaway PostgreSQL server, and the published marts read back from the warehouse."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))

from pg_server import PgServer, running_server  # noqa: E402

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun


@pytest.fixture(scope="session")
def published_run(pipeline_tiny: PipelineRun) -> PipelineRun:
    """The session's nightly run on the tiny estate (tests/conftest.py), which must have published."""
    assert pipeline_tiny.returncode == 0, pipeline_tiny.output[-4000:]
    assert (pipeline_tiny.data / "published" / "marts.duckdb").exists()
    return pipeline_tiny


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """A real PostgreSQL server on 127.0.0.1, stopped and deleted after the session."""
    with running_server() as server:
        yield server

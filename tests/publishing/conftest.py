"""Fixtures for the publishing tests: the session's tiny pipeline run (tests/conftest.py), a
throwaway PostgreSQL server, and the published marts read back from the warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))

from pg_server import PgServer, running_server  # noqa: E402

if TYPE_CHECKING:
    from conftest import PipelineRun


@dataclass
class OwnRun:
    data: Path
    dagster_home: Path
    returncode: int
    output: str


@pytest.fixture(scope="session")
def published_run(request: pytest.FixtureRequest) -> PipelineRun | OwnRun:
    """The nightly run on the tiny estate, which must have published: the session's shared run
    (`pipeline_tiny` in tests/conftest.py) when there is one, else a run of our own."""
    try:
        run = request.getfixturevalue("pipeline_tiny")
    except pytest.FixtureLookupError:
        data = request.getfixturevalue("tiny_estate")
        request.getfixturevalue("dbt_manifest")
        home = request.getfixturevalue("tmp_path_factory").mktemp("dagster_home")
        env = {**os.environ, "SP_DATA_DIR": str(data), "DAGSTER_HOME": str(home)}
        env.pop("SP_PSEUDO_KEY", None)
        proc = subprocess.run(
            [sys.executable, "-m", "orchestration.run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        run = OwnRun(data, home, proc.returncode, proc.stdout + proc.stderr)
    assert run.returncode == 0, run.output[-4000:]
    assert (run.data / "published" / "marts.duckdb").exists()
    return run


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """A real PostgreSQL server on 127.0.0.1, stopped and deleted after the session."""
    with running_server() as server:
        yield server

"""Shared fixtures. The tiny estate and the full pipeline run are built once per session:
dbt start-up dominates small builds, so end-to-end tests share one run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_runs import PipelineRun, run_pipeline

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly generated `tiny` estate (landing area + case-management database)."""
    data = tmp_path_factory.mktemp("tiny") / "data"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "estate",
            "generate",
            "--tier",
            "tiny",
            "--seed",
            "7",
            "--out",
            str(data),
            "--force",
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return data


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """dagster-dbt loads the manifest at import: build it from the models as they are now."""
    dbt = Path(sys.executable).parent / "dbt"
    project = ROOT / "dbt_project"
    env = {**os.environ, "SP_DATA_DIR": os.environ.get("SP_DATA_DIR", str(ROOT / "data"))}
    subprocess.run(
        [
            str(dbt),
            "parse",
            "--quiet",
            "--profiles-dir",
            str(project),
            "--project-dir",
            str(project),
        ],
        check=True,
        cwd=project,
        env=env,
    )
    return project / "target" / "manifest.json"


@pytest.fixture(scope="session")
def pipeline_tiny(
    tiny_estate: Path, dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory
) -> PipelineRun:
    """The nightly pipeline run once per session on the tiny estate (e2e and warehouse tests
    share it: a run takes ~2 minutes). Its `data` is the estate's data directory."""
    run = run_pipeline(tiny_estate, tmp_path_factory.mktemp("dagster_home"))
    os.environ["SP_DATA_DIR"] = str(tiny_estate)  # for helpers that read the zones
    return run


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory the pipeline settings point at."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("SP_DATA_DIR", str(data))
    monkeypatch.delenv("SP_PSEUDO_KEY", raising=False)
    monkeypatch.delenv("SP_ENV", raising=False)
    return data


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home_test"))

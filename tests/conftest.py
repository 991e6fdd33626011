"""Shared fixtures. The tiny estate and the full pipeline run are built once per session:
dbt start-up dominates small builds, so end-to-end tests share one run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_server import PgServer, running_server
from pipeline_runs import PipelineRun, run_pipeline, run_pipeline_on_engine

from orchestration.lib.settings import DBT_EXECUTABLE

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
    dbt = DBT_EXECUTABLE
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


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """A real PostgreSQL server on 127.0.0.1, stopped and deleted after the session (publishing
    to PostgreSQL, and the warehouse built on PostgreSQL)."""
    with running_server() as server:
        yield server


@pytest.fixture(scope="session")
def warehouse_postgres_url(pg: PgServer) -> str:
    """A database of its own on the session's server for the PostgreSQL warehouse (schemas raw
    and analytics), apart from the publishing tests' database."""
    import sqlalchemy as sa

    engine = sa.create_engine(pg.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("create database sp_warehouse"))
    engine.dispose()
    return pg.url().rsplit("/", 1)[0] + "/sp_warehouse"


@pytest.fixture(scope="session")
def pipeline_tiny_postgres(
    pipeline_tiny: PipelineRun,
    warehouse_postgres_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> PipelineRun:
    """The session's tiny run again with the warehouse on PostgreSQL (SP_DBT_TARGET=postgres)."""
    return run_pipeline_on_engine(
        pipeline_tiny,
        tmp_path_factory.mktemp("engine_postgres"),
        "postgres",
        SP_WAREHOUSE_POSTGRES_URL=warehouse_postgres_url,
    )


@pytest.fixture(scope="session")
def pipeline_tiny_spark(
    pipeline_tiny: PipelineRun, tmp_path_factory: pytest.TempPathFactory
) -> PipelineRun:
    """The session's tiny run again with the warehouse on Spark (SP_DBT_TARGET=spark: dbt-spark
    in a local session; the slowest run of the suite, ~10 minutes)."""
    return run_pipeline_on_engine(pipeline_tiny, tmp_path_factory.mktemp("engine_spark"), "spark")


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

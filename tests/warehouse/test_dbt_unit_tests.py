"""The dbt unit tests (dbt_project/tests/unit: SWEMWBS conversion, meaningful change, DiD, £ and
kgCO2e, coverage band, SPC rules, trajectory, headcount vs FTE, disclosure control) run here,
in CI, rather than in every nightly build: their inputs are fixed, so a night would only repeat
the same verdict. dbt needs a unit-tested model's parents to exist, so they run against a copy
of the session's tiny warehouse."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from orchestration.lib.settings import DBT_EXECUTABLE

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def test_every_dbt_unit_test_passes(
    pipeline_tiny: PipelineRun, dbt_manifest: Path, tmp_path: Path
) -> None:
    assert pipeline_tiny.returncode == 0, pipeline_tiny.output[-4000:]
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(pipeline_tiny.data / "warehouse.duckdb", data / "warehouse.duckdb")
    declared = sum(
        1
        for uid in json.loads(dbt_manifest.read_text())["unit_tests"]
        if uid.startswith("unit_test.")
    )
    target = tmp_path / "target"
    proc = subprocess.run(
        [str(DBT_EXECUTABLE), "test", "--select", "test_type:unit"]
        + ["--profiles-dir", str(PROJECT), "--project-dir", str(PROJECT)]
        + ["--target-path", str(target)],
        cwd=PROJECT,
        env={**os.environ, "SP_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    # Read the verdicts per node, not dbt's PASS= summary: that also counts the on-run-start
    # hook (register_raw_tables), so the summary is one more than the unit tests.
    results = json.loads((target / "run_results.json").read_text())["results"]
    verdicts = {
        r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")
    }
    assert len(verdicts) == declared, sorted(verdicts)
    failed = {uid: status for uid, status in verdicts.items() if status != "pass"}
    assert not failed, failed
    assert declared >= 20, "the worked examples of the methods are all declared"

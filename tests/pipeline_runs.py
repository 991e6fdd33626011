"""One run of the nightly pipeline as `make pipeline` runs it, for tests that need a whole run.

A plain module, not a conftest: `from conftest import …` resolves to whichever conftest pytest
imported last (tests/publishing/ has one too), so helpers shared across folders live here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class PipelineRun:
    """One run of the nightly pipeline (`python -m orchestration.run`) into a data directory."""

    data: Path
    dagster_home: Path
    returncode: int
    output: str
    manifest: dict


def run_pipeline(data: Path, dagster_home: Path, **extra_env: str) -> PipelineRun:
    """Run the whole nightly job as `make pipeline` does, with the development key."""
    env = {**os.environ, "SP_DATA_DIR": str(data), "DAGSTER_HOME": str(dagster_home), **extra_env}
    env.pop("SP_PSEUDO_KEY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    manifest_path = data / "landing" / "_manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    return PipelineRun(data, dagster_home, proc.returncode, proc.stdout + proc.stderr, manifest)

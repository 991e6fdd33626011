"""A kill at any instant costs one rerun, which ends exactly where a clean run ends.

The pipeline is killed with SIGKILL (its whole process group, dbt included: as the OOM killer
of a cgroup, a preempted node or a reboot would) at named points (`SP_FAULT`,
orchestration/lib/faults.py), then run again as the on-call engineer would: plainly. The rerun
must succeed; every warehouse table and published table must equal a clean run's (rows and
content hashes, run ids and timestamps left out); every file read must be loaded or
quarantined; and nothing a dead writer left may remain. SIGTERM stops a run within 30 seconds,
dbt included, and the run is recorded as canceled.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pipeline_runs import ROOT, PipelineRun, leftovers, run_pipeline, table_fingerprints

from orchestration.lib.checks import reconcile
from orchestration.lib.settings import resolve_settings
from schemas import EXTRACTS

pytestmark = pytest.mark.e2e

PUBLISHED = Path("published") / "marts.duckdb"
PUBLISHED_INTERNAL = Path("published") / "internal" / "marts.duckdb"
# The newest run's status and the slots held in the warehouse pool.
RUN_STATUS = (
    "import dagster as dg\n"
    "with dg.DagsterInstance.get() as instance:\n"
    "    run = instance.get_runs(limit=1)[0]\n"
    "    held = instance.event_log_storage.get_concurrency_info('warehouse').active_slot_count\n"
    "    print(run.status.value, held)\n"
)
DBT_STARTED = "Running dbt command: `"  # dagster-dbt's line once the dbt process has started


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> Path:
    """A tiny estate nobody has run: each case starts from a copy of it."""
    data = tmp_path_factory.mktemp("crash_estate") / "data"
    subprocess.run(
        [sys.executable, "-m", "estate", "generate", "--tier", "tiny", "--seed", "11"]
        + ["--out", str(data), "--force"],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return data


def fresh_copy(pristine: Path, where: Path) -> Path:
    data = where / "data"
    shutil.copytree(pristine, data, symlinks=True)
    return data


@pytest.fixture(scope="module")
def clean(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """The reference: one uninterrupted run."""
    where = tmp_path_factory.mktemp("crash_clean")
    run = run_pipeline(fresh_copy(pristine, where), where / "dagster_home")
    assert run.returncode == 0, run.output[-3000:]
    return run


def assert_like_clean(run: PipelineRun, clean: PipelineRun) -> None:
    assert run.returncode == 0, run.output[-3000:]
    for database in (Path("warehouse.duckdb"), PUBLISHED, PUBLISHED_INTERNAL):
        got, want = (
            table_fingerprints(run.data / database),
            table_fingerprints(clean.data / database),
        )
        differ = sorted(t for t in set(got) | set(want) if got.get(t) != want.get(t))
        assert differ == [], f"{database}: tables differing from a clean run: {differ}"
    settings = resolve_settings({"data_dir": str(run.data)})
    unreconciled = [t for t in EXTRACTS if not reconcile(t, settings)[0]]
    assert unreconciled == []
    assert leftovers(run.data) == []


def running_in_group(pgid: int) -> list[str]:
    """Commands of the processes of a process group that are still running (zombies, which
    only wait to be reaped by whoever adopted them, do not count)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            running.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return running


# (kill point, what the killed run was doing)
KILL_POINTS = [
    # Partway through the ingest: a raw partition replaced, its quarantine and audit not yet.
    "ingest.after_partition_write@40",
    # Both zones written, the audit row (which lets a rerun skip the partition) not yet.
    "ingest.before_audit@60",
    # dbt mid-build: some models built, incremental tables included, the rest not.
    "dbt.mid_build@150",
    # The published DuckDB file fully written beside the old one, not yet swapped in.
    "publish.mid_write",
]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_kill_costs_one_plain_rerun(point, pristine, clean, tmp_path):
    data = fresh_copy(pristine, tmp_path)
    home = tmp_path / "dagster_home"

    killed = run_pipeline(data, home, SP_FAULT=point)
    assert killed.returncode == -signal.SIGKILL, killed.output[-3000:]

    rerun = run_pipeline(data, home)
    assert_like_clean(rerun, clean)


def test_sigterm_stops_a_run_within_30_seconds_and_the_next_run_succeeds(pristine, clean, tmp_path):
    data = fresh_copy(pristine, tmp_path)
    home = tmp_path / "dagster_home"
    log = tmp_path / "run.log"
    env = {**os.environ, "SP_DATA_DIR": str(data), "DAGSTER_HOME": str(home)}
    env.pop("SP_PSEUDO_KEY", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestration.run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            # Stop it while dbt is building: the hardest moment (a child process, the pool slot).
            deadline = time.monotonic() + 600
            while DBT_STARTED not in log.read_text():
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline
                time.sleep(0.5)
            time.sleep(3)
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            returncode = proc.wait(timeout=60)
            stopped_after = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    output = log.read_text()
    assert stopped_after < 30, output[-3000:]
    assert returncode == 130, output[-3000:]
    assert "stopped by a signal" in output
    # dbt went with it: nothing is left running in the run's process group.
    time.sleep(1)
    assert running_in_group(proc.pid) == []
    # Read in a process of its own: a Dagster instance opened in the test process leaves
    # Dagster's global definitions-state storage pointing at it after it closes.
    status = subprocess.run(
        [sys.executable, "-c", RUN_STATUS],
        env={**os.environ, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert status == ["CANCELED", "0"]

    assert_like_clean(run_pipeline(data, home), clean)

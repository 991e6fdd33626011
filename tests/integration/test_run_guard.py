"""A run that died holds nothing, two runs never share a data directory, and a full disk
leaves a zone as it was.

The Dagster instance here is a real one in a temporary DAGSTER_HOME (SQLite storage, the
project's dagster.yaml with its one-slot `warehouse` pool); slots are claimed through the same
storage calls Dagster's executor makes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from pipeline_runs import run_pipeline

from orchestration.lib import run_guard, zones
from orchestration.lib.ingest import audit_dir, ingest_files
from orchestration.lib.settings import load_settings
from orchestration.lib.zones import ZoneWriteError

ROOT = Path(__file__).resolve().parents[2]
DATE = dt.date(2024, 2, 1)


@pytest.fixture
def instance(tmp_path: Path) -> dg.DagsterInstance:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        # instance_for_test writes its own dagster.yaml: give it the project's pool limit.
        inst.event_log_storage.set_concurrency_slots(run_guard.POOL, 1)
        yield inst


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def started_run(instance: dg.DagsterInstance, pid: int) -> dg.DagsterRun:
    """A run record as `make pipeline` leaves it when its process is killed mid-run: STARTED,
    tagged with the host and process id that ran it."""
    tags = {**run_guard.run_tags(), run_guard.PID_TAG: str(pid)}
    run = instance.create_run_for_job(dg.GraphDefinition("g").to_job(), tags=tags)
    instance.handle_run_event(
        run.run_id,
        dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name
        ),
    )
    return instance.get_run_by_id(run.run_id)


def claim_warehouse(instance: dg.DagsterInstance, run_id: str) -> None:
    status = instance.event_log_storage.claim_concurrency_slot(
        run_guard.POOL, run_id, "warehouse_dbt_assets"
    )
    assert status.is_claimed


def test_a_dead_runs_warehouse_slot_is_freed_and_the_run_marked_failed(instance):
    run = started_run(instance, dead_pid())
    claim_warehouse(instance, run.run_id)
    said: list[str] = []

    acted = run_guard.free_dead_runs(instance, said.append)

    assert acted == [run.run_id]
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    info = instance.event_log_storage.get_concurrency_info(run_guard.POOL)
    assert info.active_slot_count == 0
    assert any("freed the 'warehouse' pool slot" in line for line in said)
    # The pool is free at once: no waiting.
    run_guard.wait_for_pool(instance, timeout_s=0, say=said.append)


def test_a_live_runs_slot_is_kept_and_waiting_for_it_is_bounded_and_names_it(instance):
    live = started_run(instance, os.getpid())
    claim_warehouse(instance, live.run_id)

    assert run_guard.free_dead_runs(instance, lambda _: None) == []
    cpu_before, wall_before = time.process_time(), time.monotonic()
    with pytest.raises(run_guard.RunRefused, match=live.run_id):
        run_guard.wait_for_pool(instance, timeout_s=1.5, say=lambda _: None, poll_s=0.25)
    waited = time.monotonic() - wall_before
    # It waited the bounded time, asleep: a spinning loop would burn ~1.5 s of CPU.
    assert waited >= 1.5
    assert time.process_time() - cpu_before < 0.5 * waited
    assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED


def test_a_second_run_on_the_same_data_directory_refuses_at_once(tmp_path):
    data = tmp_path / "data"
    (data / "landing").mkdir(parents=True)
    with run_guard.exclusive_run(data):
        # In this process: a second lock on the same file is refused.
        with (
            pytest.raises(run_guard.RunRefused, match=f"pid {os.getpid()}"),
            run_guard.exclusive_run(data),
        ):
            pass
        # As `make pipeline` would be: refused with a clear message, exit code 3, nothing run.
        refused = run_pipeline(data, tmp_path / "dh")
    assert refused.returncode == 3
    assert "REFUSED: another pipeline run is using" in refused.output
    assert not (data / "raw").exists()
    # The lock dies with its holder: once released, a run may start.
    with run_guard.exclusive_run(data):
        pass


def test_a_killed_holder_releases_the_lock(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from orchestration.lib import run_guard\n"
            "with run_guard.exclusive_run(Path(sys.argv[1])):\n"
            "    print('held', flush=True); time.sleep(60)",
            str(data),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with (
        pytest.raises(run_guard.RunRefused, match=f"pid {holder.pid}"),
        run_guard.exclusive_run(data),
    ):
        pass
    holder.kill()
    holder.wait()
    with run_guard.exclusive_run(data):
        pass


def test_a_full_disk_leaves_the_partition_as_it_was_and_names_it(tmp_path, monkeypatch):
    table = tmp_path / "raw" / "some_table"
    before = pl.DataFrame({"x": [1, 2, 3]})
    zones.replace_partition(table, DATE, before)
    monkeypatch.setenv("SP_FAULT", "enospc:zones.write")

    with pytest.raises(ZoneWriteError, match="disk full while writing raw/some_table partition"):
        zones.replace_partition(table, DATE, pl.DataFrame({"x": [4, 5]}))

    assert zones.read_zone(table).drop("extract_date").equals(before)
    assert not any((tmp_path / ".staging").iterdir())


SPEC_TABLE = "gp_emis_appointments"
HEADER = "Appointment ID,Practice Code,NHS Number,Appointment Date,Status,Mode,Clinician Type,National Category"
ROWS = [
    "A1,Z00001,9434765919,03/01/2024,Attended,Telephone,GP,General Consultation Routine",
    "A2,Z00001,9990000018,04/01/2024,Did Not Attend,Face-to-Face,Nurse,",
]


def test_a_full_disk_fails_the_ingest_clearly_and_the_next_run_recovers(data_dir, monkeypatch):
    import schemas

    spec = schemas.EXTRACTS[SPEC_TABLE]
    folder = data_dir / "landing" / "gp_emis" / DATE.isoformat()
    folder.mkdir(parents=True)
    (folder / "Z00001_Appointments_20240201.csv").write_text("\n".join([HEADER, *ROWS]) + "\n")
    settings = load_settings()
    monkeypatch.setenv("SP_FAULT", "enospc:zones.write")

    with pytest.raises(ZoneWriteError) as failure:
        ingest_files(settings, spec, [DATE], run_id="full-disk")
    assert f"raw/{SPEC_TABLE} partition {DATE}" in str(failure.value)
    # Nothing half-written, and no audit row that would let the next run skip the partition.
    assert zones.row_count(settings.raw / SPEC_TABLE) == 0
    assert zones.read_zone(audit_dir(settings, SPEC_TABLE)).is_empty()

    monkeypatch.delenv("SP_FAULT")
    (result,) = ingest_files(settings, spec, [DATE], run_id="space-freed")
    assert (result.skipped, result.rows_read, result.rows_loaded) == (False, 2, 2)


def test_a_run_failed_by_a_full_disk_says_so_first_and_points_only_at_what_exists(
    data_dir, tmp_path, dbt_manifest
):
    folder = data_dir / "landing" / "gp_emis" / DATE.isoformat()
    folder.mkdir(parents=True)
    (folder / "Z00001_Appointments_20240201.csv").write_text("\n".join([HEADER, *ROWS]) + "\n")
    run = run_pipeline(data_dir, tmp_path / "dh", SP_FAULT="enospc:zones.write")
    assert run.returncode == 1
    summary = run.output[run.output.index("Nightly pipeline FAILED") :]
    first_lines = summary.splitlines()[:4]
    assert first_lines[2] == "What failed:"
    assert (
        f"step raw__{SPEC_TABLE}: disk full while writing raw/{SPEC_TABLE} partition {DATE}"
        in first_lines[3]
    )
    assert "nothing was published" in summary
    # Nothing was published or built: the summary does not point at files that do not exist.
    assert "Published marts" not in summary
    assert "Warehouse (dbt's alone" not in summary

"""One nightly run at a time per data directory, and nothing held by a run that died.

Two mechanisms, each for what it is good at:

* ``exclusive_run``: an advisory lock (``flock``) on ``<data>/.pipeline.lock``. The kernel
  releases it when the holding process dies, however it dies, so a lock can never go stale;
  a second ``make pipeline`` started meanwhile refuses at once, naming the first.
* ``free_dead_runs``: Dagster's ``warehouse`` pool keeps a slot claimed by a run until that
  run says it has finished, which a killed process never says. Runs started by
  ``make pipeline`` carry their host and process id as tags; under the lock, one of those
  whose process is gone is dead: it is marked failed and its slots are freed. Runs the daemon
  launches are watched by Dagster's own run monitoring (``orchestration/dagster.yaml``).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

LOCK_FILE = ".pipeline.lock"
POOL = "warehouse"
HOST_TAG = "sp/host"
PID_TAG = "sp/pid"


class RunRefused(RuntimeError):
    """This run must not start (another holds the data directory or the warehouse)."""


def run_tags() -> dict[str, str]:
    """Tags that let a later run tell whether this process is still alive."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


@contextmanager
def exclusive_run(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's pipeline lock for the ``with`` block, or refuse at once."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            raise RunRefused(
                f"another pipeline run is using {data_dir} ({holder}); this one stops without "
                "touching anything. Wait for it to finish (it will publish as usual), or stop "
                "it (kill -TERM <pid>) and rerun."
            ) from None
        os.ftruncate(fd, 0)
        os.write(
            fd,
            json.dumps(
                {
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "started": dt.datetime.now().isoformat(timespec="seconds"),
                }
            ).encode(),
        )
        yield
    finally:
        os.close(fd)  # releases the lock; a dead process's is released by the kernel


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "holder unknown"
    return f"pid {info.get('pid')} on {info.get('host')}, started {info.get('started')}"


def _alive(run: dg.DagsterRun) -> bool | None:
    """Whether the process running ``run`` exists: True, False, or None if it cannot be told
    (a run the daemon launched, or one on another host)."""
    if run.is_finished:
        return False
    host, pid = run.tags.get(HOST_TAG), run.tags.get(PID_TAG)
    if host != socket.gethostname() or pid is None or not pid.isdigit():
        return None
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_dead_runs(instance: dg.DagsterInstance, say: Callable[[str], None]) -> list[str]:
    """Mark runs of ``make pipeline`` whose process is gone as failed, and free every pool slot
    held by a run that is dead or already finished. Call it holding ``exclusive_run``. Returns
    the run ids it acted on; ``say`` is told what was done, one line each."""
    acted: list[str] = []
    unfinished = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.CANCELING,
            ]
        )
    )
    for run in unfinished:
        if _alive(run) is False:
            instance.report_run_failed(
                run, "the process running it no longer exists (killed or crashed); see the runbook"
            )
            say(f"run {run.run_id} died without finishing (process gone): marked failed")
            acted.append(run.run_id)
    storage = instance.event_log_storage
    for pool in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(pool)
        for run_id in sorted(info.active_run_ids | info.pending_run_ids):
            held_by = instance.get_run_by_id(run_id)
            if held_by is None or _alive(held_by) is False:
                storage.free_concurrency_slots_for_run(run_id)
                say(f"freed the '{pool}' pool slot held by run {run_id}, which is no longer alive")
                if run_id not in acted:
                    acted.append(run_id)
    return acted


def wait_for_pool(
    instance: dg.DagsterInstance,
    timeout_s: float,
    say: Callable[[str], None],
    pool: str = POOL,
    poll_s: float = 2.0,
) -> None:
    """Return once ``pool`` has a free slot; after ``timeout_s`` raise ``RunRefused`` naming
    the runs that hold it. Polls (a sleep between looks), never spins."""
    storage = instance.event_log_storage
    deadline = time.monotonic() + timeout_s
    told = False
    while True:
        info = storage.get_concurrency_info(pool)
        if info.limit is None or info.active_slot_count < info.limit:
            return
        holders = ", ".join(_describe(instance, r) for r in sorted(info.active_run_ids))
        if time.monotonic() >= deadline:
            raise RunRefused(
                f"the '{pool}' pool is still held after {timeout_s:.0f}s by {holders}; "
                "this run gives up rather than wait forever. If that run is stuck, stop it (the "
                "UI's Terminate), or free its slot by hand: python -m orchestration.slots free "
                "<run id> (docs/runbook.md)."
            )
        if not told:
            say(f"waiting up to {timeout_s:.0f}s for the '{pool}' pool, held by {holders}")
            told = True
        time.sleep(poll_s)


def _describe(instance: dg.DagsterInstance, run_id: str) -> str:
    run = instance.get_run_by_id(run_id)
    if run is None:
        return f"run {run_id} (unknown to this instance)"
    where = f", pid {run.tags[PID_TAG]}" if PID_TAG in run.tags else ""
    return f"run {run_id} ({run.job_name}, {run.status.value}{where})"


def stop_own_runs(instance: dg.DagsterInstance) -> list[str]:
    """After this process was interrupted: record its runs that did not succeed as canceled
    and free their slots, so the next run finds nothing held. Returns their ids."""
    own = instance.get_runs(
        filters=dg.RunsFilter(tags={HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())})
    )
    stopped = []
    for run in own:
        # A step interrupted by the signal ends the run as failed: it was canceled.
        if run.status != dg.DagsterRunStatus.SUCCESS:
            instance.report_run_canceled(run, "stopped by a signal (SIGTERM or Ctrl-C)")
            stopped.append(run.run_id)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return stopped

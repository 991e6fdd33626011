"""SIGTERM and Ctrl-C stop a `make pipeline` run within seconds, whatever it is doing.

Dagster turns a signal into an interrupt of the running step, but only at points it controls,
and code in a step may swallow the interrupt (dagster-dbt does, while it prepares its adapter),
after which the run carries on to the end. So the signal is also noticed here, independently of
whoever holds the Python handler: ``signal.set_wakeup_fd`` makes the interpreter write each
signal's number to a pipe that a watcher thread reads. The watcher records the request, stops
the child processes registered with ``child`` (dbt), and, as a last resort, ends the process
after ``HARD_STOP_AFTER_S``: the next run then finds the run dead and frees what it held.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HARD_STOP_AFTER_S = 25.0
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_requested = threading.Event()
_children: set[subprocess.Popen] = set()
_lock = threading.Lock()
_installed = False


def install() -> None:
    """Start noticing SIGINT and SIGTERM (call once, from the main thread, before the run)."""
    global _installed
    if _installed:
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    threading.Thread(target=_watch, args=(read_end,), name="stop-watcher", daemon=True).start()
    _installed = True


def requested() -> bool:
    """Whether a stop was asked for (SIGTERM or Ctrl-C) in this process."""
    return _requested.is_set()


@contextmanager
def child(process: subprocess.Popen) -> Iterator[None]:
    """Within the block, a stop request also stops ``process`` (SIGINT: dbt then cancels its
    queries and exits)."""
    with _lock:
        _children.add(process)
    if _requested.is_set():
        _interrupt(process)
    try:
        yield
    finally:
        with _lock:
            _children.discard(process)


def _interrupt(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)


def _watch(read_end: int) -> None:
    while True:
        numbers = os.read(read_end, 64)
        if not numbers or not any(n in _STOP_SIGNALS for n in numbers):
            continue
        if not _requested.is_set():
            _requested.set()
            print("pipeline: stop requested; stopping the run", file=sys.stderr, flush=True)
            backstop = threading.Timer(HARD_STOP_AFTER_S, _hard_stop)
            backstop.daemon = True  # a run that stops in time exits without waiting for it
            backstop.start()
        with _lock:
            children = list(_children)
        for process in children:
            _interrupt(process)


def _hard_stop() -> None:
    with _lock:
        children = list(_children)
    for process in children:
        if process.poll() is None:
            process.kill()
    print(
        f"pipeline: the run did not stop within {HARD_STOP_AFTER_S:.0f}s of the signal; ending "
        "the process. The next run marks it failed and frees what it held.",
        file=sys.stderr,
        flush=True,
    )
    os._exit(130)

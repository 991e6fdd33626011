"""Give the ingest's memory back before the dbt step.

``make pipeline`` runs the whole night in one process (Dagster's in-process executor), and dbt
runs as its child: whatever the ingest left resident in the parent counts against the machine
beside DuckDB's own cap. Measured on the national tier's first load (2026-12-05): the parent
held 1.4 GB through the dbt step, the dbt process 3.1 GB, 4.75 GB together. The ingest's
remembered pseudonyms are dropped (they speed up the ingest only), garbage collected, and the
C heap's free pages handed back to the system (glibc's ``malloc_trim``; elsewhere a no-op)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os

from orchestration.lib import pseudonymise

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_mib() -> float:
    """This process's resident memory (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return 0.0


def release_after_ingest() -> tuple[float, float]:
    """Drop what only the ingest needed and return free heap pages; (MiB before, after)."""
    before = resident_mib()
    pseudonymise.forget()
    gc.collect()
    libc = ctypes.util.find_library("c")
    if libc:
        with contextlib.suppress(OSError, AttributeError):  # AttributeError: not glibc
            ctypes.CDLL(libc).malloc_trim(0)
    return before, resident_mib()

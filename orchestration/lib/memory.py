"""Keep the pipeline process small while its dbt child builds.

``make pipeline`` runs the whole night in one process (Dagster's in-process executor), and dbt
runs as its child: whatever the ingest left resident in the parent counts against the machine
beside DuckDB's own cap.

Two things are done, both measured on the ``icb`` tier's first load (2026-12-05, parent's RSS
when the dbt step starts; definitions alone are about 330 MiB):

* ``tune_allocator`` (called when the ``orchestration`` package is imported, before any
  thread allocates) stops glibc's malloc fragmenting. By default every thread that allocates
  gets an arena of its own (up to eight per core), and the threshold above which a block is
  mmapped (and given straight back when freed) rises to 32 MiB as large blocks are freed; the
  ingest's threads then leave their large buffers' pages pinned in many arenas by a few small
  live objects. Parent at the dbt step: 700–855 MiB with glibc's defaults, 511 MiB with two
  arenas and a fixed 128 KiB threshold (``MALLOC_ARENA_MAX=2``, ``MALLOC_MMAP_THRESHOLD_``).
* ``release_after_ingest`` (the dbt step's first act) drops the ingest's remembered pseudonyms,
  garbage collects and hands the C heap's free pages back (glibc's ``malloc_trim``).

Neither changes what any query computes. On other C libraries both are no-ops."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import os

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# glibc's mallopt parameters (malloc.h).
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENA_MAX = 2
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, held fixed


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    # A C library without these is not glibc.
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def tune_allocator() -> bool:
    """Two malloc arenas and a fixed mmap threshold for this process (glibc; True if applied).

    The arena limit is read when a thread first needs an arena of its own, so this runs before
    the pipeline starts threads. Explicit ``MALLOC_ARENA_MAX`` / ``MALLOC_MMAP_THRESHOLD_`` in
    the environment are an operator's choice and win."""
    libc = _glibc()
    if libc is None:
        return False
    applied = False
    if "MALLOC_ARENA_MAX" not in os.environ:
        applied |= bool(libc.mallopt(M_ARENA_MAX, ARENA_MAX))
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        applied |= bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    return applied


def resident_mib() -> float:
    """This process's resident memory (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return 0.0


def release_after_ingest() -> tuple[float, float]:
    """Drop what only the ingest needed and return free heap pages; (MiB before, after)."""
    from orchestration.lib import pseudonymise  # polars: not needed to tune the allocator

    before = resident_mib()
    pseudonymise.forget()
    gc.collect()
    libc = _glibc()
    if libc is not None:
        with contextlib.suppress(OSError):
            libc.malloc_trim(0)
    return before, resident_mib()

"""The C allocator is tuned in every process that imports the pipeline (orchestration/lib/memory.py).

With glibc's defaults the ingest's threads each got a malloc arena, and large freed buffers
raised the mmap threshold so later ones came from those arenas, where a few small live objects
pinned their pages: the pipeline process held 700–855 MiB when dbt started on the ``icb`` tier's
first load, against 511 MiB tuned. The tests run fresh interpreters, one importing
``orchestration`` and one not, and compare glibc's own counts, so they show the difference the
import makes rather than trusting that ``mallopt`` returned 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from orchestration.lib.memory import ARENA_MAX, MMAP_THRESHOLD

# mallinfo2 and malloc_info read glibc's own view of its arenas and mmapped blocks.
PROBE = textwrap.dedent(
    """
    import ctypes, ctypes.util, json, os, sys, tempfile, threading
    if sys.argv[1] == "tuned":
        import orchestration  # noqa: F401  (tunes the allocator on import)
    libc = ctypes.CDLL(ctypes.util.find_library("c"))

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]
    libc.mallinfo2.restype = MallInfo2

    # A large block freed raises glibc's default threshold to its size; a block half the
    # threshold then comes from the heap (no new mmapped block) unless the threshold is fixed.
    big = bytearray(8 * 2**20)
    del big
    mmapped = libc.mallinfo2().hblks
    held = bytearray(1024 * 1024)
    mmapped_after = libc.mallinfo2().hblks

    # Eight threads alive at once, each allocating: one arena each, up to the limit.
    barrier = threading.Barrier(8)
    def work():
        keep = [bytes(2048) for _ in range(200)]
        barrier.wait()
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    fd, path = tempfile.mkstemp()
    os.close(fd)
    fp = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    arenas = open(path).read().count("<heap nr=")
    os.unlink(path)
    print(json.dumps({"arenas": arenas, "mmapped_1mib": mmapped_after - mmapped}))
    """
)


def _probe(mode: str) -> dict[str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_importing_the_pipeline_caps_malloc_arenas_and_fixes_the_mmap_threshold() -> None:
    default, tuned = _probe("default"), _probe("tuned")
    # glibc's default: the main arena and one per thread (eight threads, limit 8 per core).
    assert default["arenas"] > ARENA_MAX, default
    assert tuned["arenas"] <= ARENA_MAX, tuned
    # A 1 MiB block after an 8 MiB one was freed: from the heap by default, mmapped (and so
    # returned to the system when freed) with the threshold held at 128 KiB.
    assert MMAP_THRESHOLD < 2**20
    assert default["mmapped_1mib"] == 0, default
    assert tuned["mmapped_1mib"] == 1, tuned


def test_an_operators_malloc_settings_win() -> None:
    """MALLOC_ARENA_MAX in the environment is respected: glibc read it, the import leaves it."""
    env = {**os.environ, "MALLOC_ARENA_MAX": "4"}
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "tuned"], env=env, capture_output=True, text=True, check=True
    )
    arenas = json.loads(done.stdout)["arenas"]
    assert ARENA_MAX < arenas <= 4, arenas

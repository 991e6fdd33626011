"""Named points where a test can make the pipeline die, to prove that a kill at any instant
costs one rerun and nothing else.

``SP_FAULT=<point>`` kills the process group with SIGKILL when execution reaches ``<point>``
(as the OOM killer of a cgroup, a node preemption or a reboot would: no handler runs, no
``finally``). ``SP_FAULT=<point>@<n>`` waits for the n-th time the point is reached.
``SP_FAULT=enospc:<point>`` raises ENOSPC there instead, as a full disk would. Unset, each
point costs one dictionary look-up.
"""

from __future__ import annotations

import errno
import os
import signal
import threading

VARIABLE = "SP_FAULT"
_hits: dict[str, int] = {}
_lock = threading.Lock()


def _armed(point: str) -> bool:
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return False
    name, _, nth = wanted.partition("@")
    if name != point:
        return False
    with _lock:
        _hits[point] = _hits.get(point, 0) + 1
        return _hits[point] >= int(nth or 1)


def kill_point(point: str) -> None:
    """Die here, at once and uncleanly, when ``SP_FAULT`` names this point."""
    if _armed(point):
        # The whole group: a dbt child must die with its parent, as it does when a service
        # manager or the OOM killer ends the job's cgroup.
        os.killpg(os.getpgrp(), signal.SIGKILL)


def disk_full_point(point: str, path: os.PathLike[str] | str) -> None:
    """Raise ENOSPC here when ``SP_FAULT`` is ``enospc:<point>``."""
    if _armed(f"enospc:{point}"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

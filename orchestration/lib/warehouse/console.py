"""What a person at the console sees of dbt: progress in a few lines, every error, failure and
warning in full, dbt's own summary. dagster-dbt echoes each dbt event to stdout (two lines per
node: ~1,700 lines on the smallest estate); the event log and dbt's ``logs/dbt.log`` keep them
all, and ``--verbose`` (SP_VERBOSE=1) brings them back to the console."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

# orchestration/run.py sets it, "0" by default: under the Dagster daemon it is unset and a
# step's stdout (its compute log) keeps dbt's whole output.
VERBOSE_ENV = "SP_VERBOSE"
NODE = re.compile(r"^(\d+) of (\d+) (START|OK|PASS|ERROR|FAIL|WARN|SKIP|NO-OP)\b")
HOOK = re.compile(r"^\d+ of \d+ (START|OK) hook\b")
PROBLEM = {"ERROR", "FAIL", "WARN"}


class DbtProgress(io.TextIOBase):
    """A stdout that passes dbt's lines on, summarised: a progress line at each tenth of the
    nodes, problem lines in full, node start and success lines dropped."""

    def __init__(self, out: TextIO, steps: int = 10) -> None:
        self.out, self.steps = out, steps
        self.done, self.problems, self.shown = 0, 0, 0
        self.pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self._line(line)
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def _line(self, line: str) -> None:
        if HOOK.match(line):
            return
        node = NODE.match(line)
        if node is None:
            if line.strip():
                self.out.write(line + "\n")
            return
        status, total = node[3], int(node[2])
        if status == "START":
            return
        self.done += 1
        if status in PROBLEM:
            self.problems += 1
            self.out.write(line + "\n")
        # The tenth it has reached, and the last node, each printed once.
        step = self.done * self.steps // total
        if step > self.shown or self.done == total:
            self.shown = step
            self.out.write(
                f"dbt: {self.done} of {total} nodes done"
                + (f" ({self.problems} with errors, failures or warnings)" if self.problems else "")
                + "\n"
            )
        self.out.flush()


@contextmanager
def dbt_console() -> Iterator[None]:
    """dbt's stdout summarised while the build streams, unless the console asked for it all."""
    if os.environ.get(VERBOSE_ENV, "") != "0":
        yield
        return
    before = sys.stdout
    sys.stdout = DbtProgress(before)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout = before

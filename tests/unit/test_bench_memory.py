"""What `make bench` reports as a night's memory: the whole process tree, resident (RSS) and
proportional (PSS), read from /proc while a real child runs, and each sample given to the part
of the night whose steps were running then."""

from __future__ import annotations

import os
import sys

from scripts.bench_night import run_tree, step_parts

MIB = 2**20
# A parent holding 200 MiB of its own, and a child it starts holding 100 MiB more: the tree's
# peak must count both, as the pipeline and its dbt child are counted.
TREE = (
    "import subprocess, sys, time\n"
    "held = bytearray(200 * 2**20)\n"
    "child = subprocess.Popen([sys.executable, '-c', "
    "'import time; b = bytearray(100 * 2**20); time.sleep(2)'])\n"
    "child.wait()\n"
)


def test_the_peak_counts_the_whole_tree_and_pss_never_exceeds_rss() -> None:
    _, peak_rss, _, samples = run_tree([sys.executable, "-c", TREE], dict(os.environ))
    assert peak_rss >= 300 * MIB
    peak_pss = max(pss for _, _, pss in samples)
    assert 300 * MIB <= peak_pss <= peak_rss
    # The two interpreters share their libraries: PSS counts those pages once, RSS twice.
    assert any(pss < rss for _, rss, pss in samples if rss)


def test_each_sample_goes_to_the_part_that_was_running() -> None:
    # Two steps from a Dagster debug log: the ingest step ended at 10:00:10 after 5 s, the dbt
    # step at 10:01:00 after 40 s (the log's clock has whole seconds: spans widen by one).
    log = "\n".join(
        f"2026-12-05 10:{end} +0000 - dagster - DEBUG - nightly_pipeline - "
        f'0f0e-ab - 123 - {step} - STEP_SUCCESS - Finished execution of step "{step}" in '
        f"{took}."
        for end, step, took in (
            ("00:10", "raw__gp_emis_events", "5.0s"),
            ("01:00", "warehouse_dbt_assets", "40s"),
        )
    )
    at = 1796464800.0  # 2026-12-05 10:00:00 UTC
    samples = [
        (at + 8, 500 * MIB, 480 * MIB),
        (at + 40, 3000 * MIB, 2900 * MIB),
        (at + 300, 40 * MIB, 30 * MIB),
    ]
    seconds, peaks = step_parts(log, samples)
    assert seconds == {"ingest": 5.0, "dbt": 40.0, "publish": 0.0}
    assert peaks == {
        "ingest": 500 * MIB,
        "dbt": 3000 * MIB,
        "publish": 0,
        "orchestration": 40 * MIB,
    }

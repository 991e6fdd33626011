"""What the console shows of a dbt build by default (orchestration/lib/warehouse/console.py):
a progress line at each tenth, every problem line in full, dbt's own summary; node start and
success lines and hooks are dropped."""

from __future__ import annotations

import io

from orchestration.lib.warehouse.console import DbtProgress

DBT_OUTPUT = [
    "Running with dbt=1.11.16",
    "",
    "1 of 1 START hook: sp_warehouse.on-run-start.0 ......... [RUN]",
    "1 of 1 OK hook: sp_warehouse.on-run-start.0 ............ [OK in 0.02s]",
    *(
        line
        for n in range(1, 21)
        for line in (
            f"{n} of 20 START sql view model main.m{n} ........ [RUN]",
            f"{n} of 20 FAIL 3 not_null_m{n}_id ............. [FAIL 3 in 0.1s]"
            if n == 7
            else f"{n} of 20 OK created sql view model main.m{n} .. [OK in 0.1s]",
        )
    ),
    "Completed with 1 error, 0 partial successes, and 0 warnings:",
    "Done. PASS=19 WARN=0 ERROR=1 SKIP=0 NO-OP=0 TOTAL=20",
]


def test_progress_by_tenths_problems_in_full_and_the_summary() -> None:
    shown = io.StringIO()
    console = DbtProgress(shown, steps=4)
    # Written in uneven pieces, as a stream arrives.
    text = "\n".join(DBT_OUTPUT) + "\n"
    for start in range(0, len(text), 37):
        console.write(text[start : start + 37])
    assert shown.getvalue().splitlines() == [
        "Running with dbt=1.11.16",
        "dbt: 5 of 20 nodes done",
        "7 of 20 FAIL 3 not_null_m7_id ............. [FAIL 3 in 0.1s]",
        "dbt: 10 of 20 nodes done (1 with errors, failures or warnings)",
        "dbt: 15 of 20 nodes done (1 with errors, failures or warnings)",
        "dbt: 20 of 20 nodes done (1 with errors, failures or warnings)",
        "Completed with 1 error, 0 partial successes, and 0 warnings:",
        "Done. PASS=19 WARN=0 ERROR=1 SKIP=0 NO-OP=0 TOTAL=20",
    ]

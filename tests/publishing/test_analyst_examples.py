"""Every example question in docs/analysts.md runs against a real published file and returns
the columns its printed answer shows, so the examples never rot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pytest
from analyst_examples import examples, run

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun


def test_the_page_has_ten_examples() -> None:
    found = examples()
    assert [e.number for e in found] == list(range(1, 11))


@pytest.mark.e2e
@pytest.mark.parametrize("example", examples(), ids=lambda e: f"q{e.number:02d}")
def test_example_runs_on_the_published_file(published_run: PipelineRun, example) -> None:
    con = duckdb.connect(str(published_run.data / "published" / "marts.duckdb"), read_only=True)
    try:
        columns, rows = run(con, example.sql)
    finally:
        con.close()
    assert columns == example.answer_columns
    assert rows, "an example that answers nothing on the tiny estate teaches nothing"

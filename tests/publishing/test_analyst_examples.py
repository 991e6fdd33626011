"""Every example question in docs/analysts.md prints the answer its query returns on the estate
the page names (tiny, seed 7: the session's shared pipeline run), so the examples cannot rot:
a model change that moves a number fails here until `python -m scripts.analyst_examples
--write` rewrites the page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pytest

from scripts.analyst_examples import DOC, LABEL, SEED, TIER, answer, examples, rewritten

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun


def test_the_examples_are_numbered_from_one_without_gaps() -> None:
    found = examples()
    assert len(found) >= 13
    assert [e.number for e in found] == list(range(1, len(found) + 1))
    assert all(e.answer.startswith(f"Answer ({LABEL}):") for e in found)


@pytest.mark.e2e
def test_the_session_run_is_the_estate_the_page_names(published_run: PipelineRun) -> None:
    assert published_run.manifest["tier"] == TIER
    assert published_run.manifest["seed"] == SEED


@pytest.mark.e2e
@pytest.mark.parametrize("example", examples(), ids=lambda e: f"q{e.number:02d}")
def test_the_page_prints_what_the_query_returns(published_run: PipelineRun, example) -> None:
    con = duckdb.connect(str(published_run.data / "published" / "marts.duckdb"), read_only=True)
    try:
        printed = answer(con, example.sql)
        rows = con.sql(example.sql).fetchall()
    finally:
        con.close()
    assert rows, "an example that answers nothing on the tiny estate teaches nothing"
    assert printed == example.answer, (
        f"docs/analysts.md question {example.number} prints a stale answer; run "
        "python -m scripts.analyst_examples --write"
    )


@pytest.mark.e2e
def test_the_whole_page_is_current(published_run: PipelineRun) -> None:
    """What `--check` asserts: re-answering every question leaves the page unchanged."""
    assert rewritten(published_run.data / "published" / "marts.duckdb") == DOC.read_text()

"""Great Expectations on the published marts: the pipeline's run built Data Docs, every suite
passes on what it published, and the suites catch what they are for — a rate out of range, a
suppression flag that disagrees with its status, totals that do not reconcile, a table that
shrank against the last run."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e


@pytest.fixture
def published_copy(published_run: PipelineRun, tmp_path: Path) -> Path:
    path = tmp_path / "marts.duckdb"
    shutil.copy(published_run.data / "published" / "marts.duckdb", path)
    return path


def test_the_pipeline_built_data_docs(published_run: PipelineRun) -> None:
    docs = published_run.data / "docs" / "gx"
    assert (docs / "index.html").exists()
    assert list((docs / "validations").rglob("*.html"))


def test_every_suite_passes_on_the_published_file(published_copy: Path, tmp_path: Path) -> None:
    from orchestration.lib.publish.gx import validate_published

    results = validate_published(published_copy, tmp_path / "gx", tmp_path / "state")
    assert "_reconciliation" in results and "pub_referrals_monthly" in results
    assert {n: r.failed for n, r in results.items() if not r.success} == {}
    assert all(r.evaluated >= 1 for r in results.values())


def test_every_night_validates_again_on_the_state_it_left(
    published_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each run makes its suites, validation definitions and checkpoints again: the third run
    on one GX state passes as the first did, and GX never meets a definition it cannot read
    (its "Skipping Bad Configs", which once came before an "already exists" failure). Only the
    last validations of each suite are kept, in GX's store and in Data Docs, so a night's
    validation does not grow with the nights before it (here 2 kept; 31 by default)."""
    from orchestration.lib.publish.gx import validate_published

    docs, state = tmp_path / "gx", tmp_path / "state"
    for _ in range(3):
        results = validate_published(published_copy, docs, state, history=2)
        assert {n: r.failed for n, r in results.items() if not r.success} == {}
    printed = capsys.readouterr()
    assert "Bad Configs" not in printed.out + printed.err

    store = state / "gx" / "uncommitted" / "validations" / "published"
    suites = sorted(p.name for p in store.iterdir())
    assert len(suites) == len(results)
    index = (docs / "index.html").read_text()
    for suite in suites:
        kept = sorted(p.name for p in (store / suite / "__none__").iterdir())
        pages = sorted(
            p.name for p in (docs / "validations" / "published" / suite / "__none__").iterdir()
        )
        assert len(kept) == 2 and pages == kept, (suite, kept, pages)
        linked = set(re.findall(rf"published/{suite}/__none__/([0-9T.]+Z)/", index))
        assert linked == set(kept), (suite, linked, kept)


def test_suites_catch_what_they_are_for(published_copy: Path, tmp_path: Path) -> None:
    from orchestration.lib.publish.gx import validate_published

    # First run remembers the row counts.
    validate_published(published_copy, tmp_path / "gx", tmp_path / "state")
    with duckdb.connect(str(published_copy)) as con:
        con.execute("update pub_referral_coverage set coverage_rate = 1.5 where org_level = 'pcn'")
        con.execute(
            "update pub_referral_equity set is_suppressed = false "
            "where disclosure_status = 'suppressed'"
        )
        # Inflate the PCN totals so their practices no longer add up to them (on the tiny
        # estate the survey is the table whose practice cells are all shown).
        con.execute(
            "update pub_clinician_survey set responses = responses + 500 "
            "where org_level = 'pcn' and responses is not null"
        )
        # A mean and a secondary count shown on rows whose referrals are suppressed.
        con.execute(
            "update pub_referrals_monthly set mean_days_to_first_contact = 12.5, "
            "contacted_episodes = 10 where referrals is null"
        )
        con.execute("delete from pub_workforce_pcn_month")
        con.execute(
            "insert into pub_workforce_pcn_month select * from pub_workforce_pcn_month limit 0"
        )
    results = validate_published(published_copy, tmp_path / "gx", tmp_path / "state")
    assert (
        "expect_column_values_to_be_between(coverage_rate)"
        in results["pub_referral_coverage"].failed
    )
    assert results["pub_referral_equity"].failed == [
        "expect_column_values_to_be_in_set(_suppression_consistent)"
    ]
    assert results["pub_referrals_monthly"].failed == [
        "expect_column_values_to_be_in_set(_hidden_with_count)"
    ]
    assert not results["_reconciliation"].success
    assert results["pub_workforce_pcn_month"].failed == ["expect_table_row_count_to_be_between()"]


def test_a_table_that_may_be_empty_passes_empty_until_it_has_had_rows(
    published_copy: Path, tmp_path: Path
) -> None:
    """An estate with 11 months of history publishes no rolling-year coverage and no savings:
    those tables declare why (meta.empty_until) and pass empty, where any other table fails
    empty. Once a good run has published rows in them, emptying them fails as for any table."""
    from orchestration.lib.publish.gx import validate_published
    from orchestration.lib.publish.marts import publishable_marts
    from orchestration.lib.summary import empty_by_design

    may_be_empty = sorted(m.name for m in publishable_marts() if m.empty_until)
    assert may_be_empty == [
        "pub_referral_coverage",
        "pub_referral_equity_rolling",
        "pub_utilisation_savings",
        "pub_utilisation_savings_headline",
    ]
    full = tmp_path / "full.duckdb"
    shutil.copy(published_copy, full)

    def empty(tables: list[str]) -> None:
        with duckdb.connect(str(published_copy)) as con:
            for table in tables:
                (rows,) = con.execute(f"select count(*) from {table}").fetchall()[0]
                assert rows > 0, table
                con.execute(f"delete from {table}")

    empty([*may_be_empty, "pub_referrals_monthly"])
    short = validate_published(published_copy, tmp_path / "gx", tmp_path / "short")
    assert {n: r.failed for n, r in short.items() if not r.success} == {
        "pub_referrals_monthly": ["expect_table_row_count_to_be_between()"]
    }
    # The run summary says which tables are empty by design, and why.
    assert empty_by_design(published_copy, publishable_marts()) == [
        "pub_referral_coverage, pub_referral_equity_rolling: until the data covers a whole "
        "12-month window",
        "pub_utilisation_savings, pub_utilisation_savings_headline: until the data covers a "
        "referral's whole pre and post windows (var utilisation_window_months either side of it)",
    ]

    state = tmp_path / "state"
    shutil.copy(full, published_copy)
    assert all(
        r.success for r in validate_published(published_copy, tmp_path / "gx", state).values()
    )
    assert empty_by_design(published_copy, publishable_marts()) == []
    empty(may_be_empty)
    later = validate_published(published_copy, tmp_path / "gx", state)
    assert {n: r.failed for n, r in later.items() if not r.success} == {
        table: ["expect_table_row_count_to_be_between()"] for table in may_be_empty
    }


def test_a_failing_run_does_not_become_the_baseline(published_copy: Path, tmp_path: Path) -> None:
    """Row counts are remembered only from a run whose suites all passed: a run that published
    one row of a table fails, and the next good run is still judged against the good counts
    (had the bad run's 1 been remembered, the good run's full table would be 'more than
    double' and fail)."""
    from orchestration.lib.publish.gx import validate_published

    state = tmp_path / "state"
    first = validate_published(published_copy, tmp_path / "gx", state)
    assert all(r.success for r in first.values())
    baseline = (state / "row_counts.json").read_text()
    with duckdb.connect(str(published_copy), read_only=True) as con:
        (rows,) = con.execute("select count(*) from pub_referrals_monthly").fetchall()[0]
    assert rows > 2

    shrunk = tmp_path / "shrunk.duckdb"
    shutil.copy(published_copy, shrunk)
    with duckdb.connect(str(shrunk)) as con:
        con.execute(
            "delete from pub_referrals_monthly where rowid <> (select min(rowid) from "
            "pub_referrals_monthly)"
        )
    bad = validate_published(shrunk, tmp_path / "gx", state)
    assert bad["pub_referrals_monthly"].failed == ["expect_table_row_count_to_be_between()"]
    assert (state / "row_counts.json").read_text() == baseline

    again = validate_published(published_copy, tmp_path / "gx", state)
    assert {n: r.failed for n, r in again.items() if not r.success} == {}


def test_a_copied_data_directory_writes_its_own_data_docs(
    published_copy: Path, tmp_path: Path
) -> None:
    """GX remembers its Data Docs folder as an absolute path in its state: a data directory
    copied elsewhere (as the outage test does, or an engineer moving it) must write the copy's
    docs, offline-ready, and leave the original's site untouched."""
    from orchestration.lib.publish.gx import validate_published

    original = tmp_path / "original"
    validate_published(published_copy, original / "gx", original / "state")
    index = (original / "gx" / "index.html").read_text()
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)

    validate_published(published_copy, copy / "gx", copy / "state")

    assert (original / "gx" / "index.html").read_text() == index
    copied_index = (copy / "gx" / "index.html").read_text()
    assert copied_index != index  # rebuilt by this run (its validations are newer)
    assert "cdn.jsdelivr.net" not in copied_index and "static/offline/" in copied_index

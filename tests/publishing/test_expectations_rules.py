"""The pandas-side rules behind the Great Expectations suites, on hand-made frames (no pipeline
run): what makes a suppression-marker or hidden-with-count check fail."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.lib.publish import gx as gx_module

DERIVED = {
    "contacted_episodes": ("referrals",),
    "mean_days_to_first_contact": ("referrals", "contacted_episodes"),
}


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=[
            "referrals",
            "contacted_episodes",
            "mean_days_to_first_contact",
            "is_suppressed",
            "disclosure_status",
        ],
    )


def test_a_controlled_frame_is_consistent() -> None:
    df = _frame(
        [
            (20, 10, 14.5, False, "rounded"),
            (None, None, None, True, "suppressed"),
            # The row's primary is shown but its secondary count is hidden: so is the mean.
            (15, None, None, True, "suppressed"),
        ]
    )
    out = gx_module._derived("pub_referrals_monthly", df, DERIVED)
    assert out["_suppression_consistent"].tolist() == [True, True, True]
    assert out["_hidden_with_count"].tolist() == [True, True, True]


@pytest.mark.parametrize(
    ("row", "column"),
    [
        # A mean shown on a suppressed row.
        ((None, None, 14.5, True, "suppressed"), "_hidden_with_count"),
        # A secondary count shown on a suppressed row.
        ((None, 10, None, True, "suppressed"), "_hidden_with_count"),
        # A mean shown where its secondary count is hidden.
        ((15, None, 3.0, True, "suppressed"), "_hidden_with_count"),
        # The old two-valued markers are not accepted as 'suppressed'.
        ((None, None, None, True, "suppressed_primary"), "_suppression_consistent"),
        # A shown row without its count.
        ((None, None, None, False, "rounded"), "_suppression_consistent"),
    ],
)
def test_what_the_checks_catch(row: tuple, column: str) -> None:
    out = gx_module._derived("pub_referrals_monthly", _frame([row]), DERIVED)
    assert out[column].tolist() == [False]


def test_a_declared_column_missing_from_the_table_fails() -> None:
    df = _frame([(20, 10, 14.5, False, "rounded")]).drop(columns="contacted_episodes")
    out = gx_module._derived("pub_referrals_monthly", df, DERIVED)
    assert out["_hidden_with_count"].tolist() == [False]

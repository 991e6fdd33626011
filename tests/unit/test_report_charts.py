"""The report's Making Data Count logic on worked examples (no pipeline): how a point's special
cause reads through the measure's improvement direction, which variation icon the latest point
gives, and the assurance icon from where the target lies against the latest limits
(NHSRplotthedots 0.2 semantics); and that a chart's tick labels sit at their values."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from orchestration.lib.publish.charts import (
    MDC,
    SpcPoint,
    assurance_type,
    point_class,
    spc_chart,
    variation_icon_type,
)


def _points(values: list[float | None], variations: list[str | None]) -> list[SpcPoint]:
    start = dt.date(2024, 1, 1)
    return [
        SpcPoint(start + dt.timedelta(weeks=i), v, 5.0, 9.0, 1.0, 1, var)
        for i, (v, var) in enumerate(zip(values, variations, strict=True))
    ]


@pytest.mark.parametrize(
    ("variation", "improvement", "expected"),
    [
        ("special_cause_high", "increase", "improvement"),
        ("special_cause_low", "increase", "concern"),
        ("special_cause_high", "decrease", "concern"),
        ("special_cause_low", "decrease", "improvement"),
        ("common_cause", "increase", "common_cause"),
        (None, "increase", "common_cause"),
    ],
)
def test_point_class_reads_the_improvement_direction(
    variation: str | None, improvement: str, expected: str
) -> None:
    assert point_class(variation, improvement) == expected


def test_variation_icon_is_the_latest_flagged_point() -> None:
    # The last point has no flag (suppressed or incomplete): the one before decides.
    points = _points([3, 9, 2], ["common_cause", "special_cause_high", None])
    assert variation_icon_type(points, "increase") == "improvement_high"
    assert variation_icon_type(points, "decrease") == "concern_high"
    points = _points([3, 0.5], ["common_cause", "special_cause_low"])
    assert variation_icon_type(points, "increase") == "concern_low"
    assert variation_icon_type(_points([3, 4], ["common_cause"] * 2), "increase") == "common_cause"


@pytest.mark.parametrize(
    ("target", "improvement", "expected"),
    [
        (10.0, "increase", "fail"),  # above the upper limit: the process cannot reach it
        (0.5, "increase", "pass"),  # below the lower limit: always met
        (5.0, "increase", "hit_and_miss"),
        (10.0, "decrease", "pass"),
        (0.5, "decrease", "fail"),
        (None, "increase", "none"),
    ],
)
def test_assurance_from_the_target_against_the_limits(
    target: float | None, improvement: str, expected: str
) -> None:
    points = _points([4, 5, 6], ["common_cause"] * 3)  # limits 1..9
    assert assurance_type(points, improvement, target) == expected


def test_spc_chart_colours_points_and_places_ticks_at_their_values() -> None:
    points = _points(
        [2, 3, 12, 4, 0],
        ["common_cause", "common_cause", "special_cause_high", "common_cause", "special_cause_low"],
    )
    chart = spc_chart("spc", "t", "t", points, y_label="n", improvement="increase", target=3.0)
    # The scatter's own group (the legend draws sample markers too).
    points_group = chart.svg.split('<g id="t-points">', 1)[1].split('<g id="t-', 1)[0]
    fills = re.findall(
        r'<use xlink:href="#t-[^"]+" x="[^"]+" y="([^"]+)" style="fill: (#\w+)', points_group
    )
    assert [f for _, f in fills] == [MDC["common_cause"]] * 2 + [
        MDC["improvement"],
        MDC["common_cause"],
        MDC["concern"],
    ]
    assert chart.attrs["variation"] == "concern_low" and chart.attrs["assurance"] == "hit_and_miss"
    assert 'data-icon="variation" data-value="concern_low"' in chart.icons
    # Each y tick's label is the value of the gridline it sits on: points at 0 and 12 lie on
    # the ticks labelled 0 and 12 (the hand-built SVG this replaced put labels off their lines).
    y_of = {float(y): f for y, f in fills}
    ticks = dict(
        (label, float(y))
        for y, label in re.findall(
            r'<g id="t-ytick_\d+">.*?<use xlink:href="#t-[^"]+" x="[^"]+" y="([^"]+)".*?'
            r"<text[^>]*>(-?\d+)</text>",
            chart.svg,
            flags=re.DOTALL,
        )
    )
    zero_y = next(y for y, f in y_of.items() if f == MDC["concern"])
    twelve_y = next(y for y, f in y_of.items() if f == MDC["improvement"])
    assert ticks["0"] == pytest.approx(zero_y, abs=0.01)
    assert ticks["12"] == pytest.approx(twelve_y, abs=0.01)

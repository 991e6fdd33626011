"""Charts for the nightly report, drawn with matplotlib and inlined as SVG.

matplotlib places ticks, scales and legends (the report's old hand-built SVG put its tick labels
at the wrong values), and its SVG backend writes text as text, so the page stays one offline file
that can be searched and tested. Statistical process control (SPC) charts follow NHS England's
Making Data Count (MDC) conventions as NHSRplotthedots implements them (``ptd_spc_colours()``,
version 0.2): a grey data line, points coloured by variation (special cause improvement blue
``#00b0f0``, special cause concern orange ``#e46c0a``, common cause grey ``#a6a6a6``), a black
mean, grey process limits, a red target, and beside each chart the variation icon (the latest
point's variation, H/L for high/low) and, where there is a target, the assurance icon (pass, fail,
or hit-and-miss from where the target lies against the process limits).

Only ``matplotlib.figure.Figure`` is used, never pyplot: no global state, safe inside a Dagster
step.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: a server process

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import TICKDOWN
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, PercentFormatter

# NHSRplotthedots 0.2 defaults (ptd_spc_colours), the MDC palette.
MDC = {
    "common_cause": "#a6a6a6",
    "improvement": "#00b0f0",
    "concern": "#e46c0a",
    "neutral": "#490092",
    "value_line": "#a6a6a6",
    "mean": "#000000",
    "limits": "#a6a6a6",
    "target": "#de1b1b",
}
# NHS identity colours for the charts that are not SPC.
NHS = {
    "blue": "#005eb8",
    "dark_blue": "#003087",
    "grey": "#768692",
    "dark_grey": "#425563",
    "green": "#78be20",
    "red": "#da291c",
    "pale": "#e8edee",
}
FONT = ["Arial", "Liberation Sans", "Helvetica", "DejaVu Sans", "sans-serif"]
RC: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: searchable, testable, small
    "font.family": "sans-serif",
    "font.sans-serif": FONT,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": NHS["dark_grey"],
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": NHS["pale"],
    "legend.frameon": False,
    "legend.fontsize": 8,
}
WIDTH_IN, HEIGHT_IN = 6.0, 2.8


@dataclass
class SpcPoint:
    """One point of an XmR chart as published: value None = suppressed or missing (a gap)."""

    date: dt.date
    value: float | None
    mean: float | None
    upper: float | None
    lower: float | None
    period: int
    variation: str | None  # common_cause, special_cause_high, special_cause_low, None (no flag)
    complete: bool = True


@dataclass
class Chart:
    """A drawn chart: its SVG and what the page says beside it."""

    kind: str
    svg: str
    attrs: dict[str, str]
    icons: str = ""


def point_class(variation: str | None, improvement: str) -> str:
    """MDC class of a point: special cause high/low read through the measure's improvement
    direction ('increase' or 'decrease')."""
    if variation == "special_cause_high":
        return "improvement" if improvement == "increase" else "concern"
    if variation == "special_cause_low":
        return "concern" if improvement == "increase" else "improvement"
    return "common_cause"


def variation_icon_type(points: Sequence[SpcPoint], improvement: str) -> str:
    """The variation icon: the latest flagged point's variation (NHSRplotthedots reads the last
    point), e.g. improvement_high, concern_low, common_cause."""
    flagged = [p for p in points if p.variation is not None and p.value is not None]
    if not flagged:
        return "none"
    last = flagged[-1].variation
    if last == "common_cause":
        return "common_cause"
    side = "high" if last == "special_cause_high" else "low"
    return f"{point_class(last, improvement)}_{side}"


def assurance_type(points: Sequence[SpcPoint], improvement: str, target: float | None) -> str:
    """Assurance against a target from the latest period's limits (NHSRplotthedots
    ptd_calculate_assurance_type): the process will consistently pass, consistently fail, or
    hit and miss."""
    if target is None:
        return "none"
    latest = [p for p in points if p.upper is not None and p.lower is not None]
    if not latest:
        return "none"
    upper, lower = latest[-1].upper, latest[-1].lower
    assert upper is not None and lower is not None  # filtered above
    if target > upper:
        return "fail" if improvement == "increase" else "pass"
    if target < lower:
        return "pass" if improvement == "increase" else "fail"
    return "hit_and_miss"


ICON_TEXT = {
    "common_cause": ("Common cause variation", MDC["common_cause"], ""),
    "improvement_high": ("Special cause variation: improvement (high)", MDC["improvement"], "H"),
    "improvement_low": ("Special cause variation: improvement (low)", MDC["improvement"], "L"),
    "concern_high": ("Special cause variation: concern (high)", MDC["concern"], "H"),
    "concern_low": ("Special cause variation: concern (low)", MDC["concern"], "L"),
    "pass": ("Assurance: the process will consistently pass the target", MDC["improvement"], "P"),
    "fail": ("Assurance: the process will consistently fail the target", MDC["concern"], "F"),
    "hit_and_miss": (
        "Assurance: the process will hit and miss the target at random",
        MDC["common_cause"],
        "?",
    ),
}


def icon(kind: str, value: str) -> str:
    """An MDC-style icon (inline SVG): a coloured ring with H/L (variation) or P/F/?
    (assurance) over a small run of points. Icons, not charts: drawn as plain SVG markup."""
    if value not in ICON_TEXT:
        return ""
    label, colour, letter = ICON_TEXT[value]
    if kind == "variation":
        # a run of points drifting in the icon's direction (flat for common cause)
        ys = {"high": [34, 33, 31, 27, 24], "low": [24, 25, 27, 31, 34]}.get(
            value.rsplit("_", 1)[-1], [29, 31, 28, 30, 29]
        )
        dots = "".join(
            f'<circle cx="{12 + 6.5 * i}" cy="{y}" r="2.3" fill="{MDC["common_cause"] if i < 3 else colour}"/>'
            for i, y in enumerate(ys)
        )
        mark = f'<text x="24" y="19" text-anchor="middle" font-size="12" font-weight="bold" fill="{colour}">{letter}</text>'
    else:
        dots = (
            f'<line x1="10" x2="38" y1="32" y2="32" stroke="{MDC["target"]}" stroke-width="1.5" '
            'stroke-dasharray="3,2"/>'
        )
        mark = f'<text x="24" y="26" text-anchor="middle" font-size="16" font-weight="bold" fill="{colour}">{letter}</text>'
    return (
        f'<svg class="mdc-icon" data-icon="{kind}" data-value="{value}" viewBox="0 0 48 48" '
        f'width="48" height="48" role="img" aria-label="{html.escape(label)}">'
        f"<title>{html.escape(label)}</title>"
        f'<circle cx="24" cy="24" r="20" fill="#ffffff" stroke="{colour}" stroke-width="4"/>'
        f"{mark}{dots}</svg>"
    )


def _month_firsts(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first day of every month from ``first``'s to ``last``'s."""
    months, (year, month) = [], (first.year, first.month)
    while (year, month) <= (last.year, last.month):
        months.append(dt.date(year, month, 1))
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return months


def _month_axis(ax: Axes, dates: Sequence[dt.date]) -> None:
    """Dates as months: a tick on the first of every 1, 2, 3, 4, 6 or 12 months, at most ~6,
    and a short mark on the first of every other month.

    Ticks are placed from a fixed list, and the month marks are one line of tick-shaped
    markers, not minor ticks: matplotlib's date locator and its per-tick artists (each minor
    tick a Tick with its own lines and label, laid out twice per saved chart) were half the
    time of a report's SPC charts, for marks that look the same."""
    if not dates:
        return
    first, last = min(dates), max(dates)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = next(s for s in (1, 2, 3, 4, 6, 12) if months / s <= 6 or s == 12)
    # A year either side covers the axis margins; matplotlib drops ticks outside the view.
    around = _month_firsts(dt.date(first.year - 1, 1, 1), dt.date(last.year + 1, 12, 1))
    ticks = [d for d in around if (d.month - 1) % step == 0]
    ax.xaxis.set_major_locator(FixedLocator(mdates.date2num(ticks)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    marks = [d for d in _month_firsts(first, last) if d >= first and (d.month - 1) % step]
    if step > 1 and marks:
        ax.plot(
            marks,
            [0.0] * len(marks),
            transform=ax.get_xaxis_transform(),  # x in dates, y on the axis line
            linestyle="none",
            marker=TICKDOWN,
            markersize=matplotlib.rcParams["xtick.minor.size"],
            markeredgewidth=matplotlib.rcParams["xtick.minor.width"],
            color=matplotlib.rcParams["xtick.color"],
            clip_on=False,
            scalex=False,
            scaley=False,
            gid="month-marks",
        )


def _svg(fig: Figure, kind: str, uid: str, title: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(RC), matplotlib.rc_context({"svg.hashsalt": uid}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and DOCTYPE: inlined in HTML
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    # matplotlib ids are unique within a figure; prefix them so several charts share a page.
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{uid}-\1"', svg)
    svg = re.sub(r'(href|clip-path|url)(=?"?\(?)#([^")\s]+)', rf"\1\2#{uid}-\3", svg)
    return svg.replace(
        "<svg ",
        f'<svg class="chart" data-chart="{kind}" data-uid="{uid}" role="img" '
        f'aria-label="{html.escape(title)}" ',
        1,
    )


def _figure(height: float = HEIGHT_IN, width: float = WIDTH_IN) -> Figure:
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width, height))
        fig.add_subplot()
    return fig


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")


def spc_chart(
    kind: str,
    uid: str,
    title: str,
    points: Sequence[SpcPoint],
    *,
    y_label: str,
    improvement: str,
    target: float | None = None,
    target_label: str = "target",
    counts: bool = True,
) -> Chart:
    """An XmR chart in MDC colours with its variation and assurance icons."""
    with matplotlib.rc_context(RC):
        fig = _figure()
        ax = fig.axes[0]
        dates = [p.date for p in points]
        values = [math.nan if p.value is None else p.value for p in points]
        ax.plot(dates, values, color=MDC["value_line"], lw=1.3, zorder=2, gid="line")
        periods = sorted({p.period for p in points})
        lower_drawn = False
        for period in periods:
            seg = [p for p in points if p.period == period and p.mean is not None]
            if not seg:
                continue
            xs = [seg[0].date, seg[-1].date]
            ax.plot(xs, [seg[0].mean] * 2, color=MDC["mean"], lw=1.2, gid=f"mean-{period}")
            ax.plot(
                xs, [seg[0].upper] * 2, color=MDC["limits"], lw=1.1, ls="--", gid=f"upl-{period}"
            )
            # A count cannot fall below zero: a negative lower limit is not drawn.
            if seg[0].lower is not None and (seg[0].lower > 0 or not counts):
                ax.plot(
                    xs,
                    [seg[0].lower] * 2,
                    color=MDC["limits"],
                    lw=1.1,
                    ls="--",
                    gid=f"lpl-{period}",
                )
                lower_drawn = True
            if period != periods[0]:
                ax.axvline(
                    seg[0].date, color=NHS["dark_grey"], lw=0.9, ls=":", gid=f"change-{period}"
                )
        if target is not None:
            ax.axhline(target, color=MDC["target"], lw=1.2, ls=(0, (4, 3)), gid="target")
        shown = [p for p in points if p.value is not None]
        classes = [point_class(p.variation, improvement) for p in shown]
        colours = [MDC[c] for c in classes]
        faces = [c if p.complete else "#ffffff" for c, p in zip(colours, shown, strict=True)]
        ax.scatter(
            [p.date for p in shown],
            [p.value for p in shown],
            s=16,
            c=faces,
            edgecolors=colours,
            linewidths=1.0,
            zorder=3,
            clip_on=False,  # a point at zero sits on the axis, drawn whole
            gid="points",
        )
        if counts:
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.set_ylabel(y_label)
        ax.set_title(title)
        _month_axis(ax, dates)
        handles = [
            Line2D(
                [], [], color=MDC["value_line"], marker="o", mfc=MDC[c], mec=MDC[c], ms=5, label=lbl
            )
            for c, lbl in (
                ("common_cause", "common cause"),
                ("improvement", "improvement"),
                ("concern", "concern"),
            )
        ]
        handles += [
            Line2D([], [], color=MDC["mean"], lw=1.2, label="mean"),
            Line2D(
                [],
                [],
                color=MDC["limits"],
                lw=1.1,
                ls="--",
                label="process limits" if lower_drawn else "upper process limit",
            ),
        ]
        if target is not None:
            handles.append(
                Line2D([], [], color=MDC["target"], lw=1.2, ls=(0, (4, 3)), label=target_label)
            )
        if len(periods) > 1:
            handles.append(
                Line2D([], [], color=NHS["dark_grey"], lw=0.9, ls=":", label="limits recalculated")
            )
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        svg = _svg(fig, kind, uid, title)
    variation = variation_icon_type(points, improvement)
    assurance = assurance_type(points, improvement, target)
    icons = icon("variation", variation) + icon("assurance", assurance)
    counts_by_class = {c: classes.count(c) for c in ("common_cause", "improvement", "concern")}
    return Chart(
        kind,
        svg,
        {
            "variation": variation,
            "assurance": assurance,
            "improvement": improvement,
            "points": str(len(shown)),
            **{f"points-{k.replace('_', '-')}": str(v) for k, v in counts_by_class.items()},
        },
        icons,
    )


@dataclass
class LineSeries:
    label: str
    dates: Sequence[dt.date]
    values: Sequence[float | None]
    colour: str
    dashed: bool = False
    markers: bool = True


def line_chart(
    kind: str,
    uid: str,
    title: str,
    series: Sequence[LineSeries],
    *,
    y_label: str,
    band: tuple[float, float] | None = None,
    band_label: str = "",
    percent: bool = False,
    integer: bool = False,
) -> Chart:
    """Lines over months, None values leaving gaps; an optional shaded target band."""
    with matplotlib.rc_context(RC):
        fig = _figure()
        ax = fig.axes[0]
        all_dates: list[dt.date] = []
        for i, s in enumerate(series):
            ys = [math.nan if v is None else float(v) for v in s.values]
            ax.plot(
                s.dates,
                ys,
                color=s.colour,
                lw=1.6,
                ls="--" if s.dashed else "-",
                marker="o" if s.markers and not s.dashed else None,
                ms=3.5,
                label=s.label,
                gid=f"series-{i}",
            )
            all_dates += list(s.dates)
        if band:
            ax.axhspan(*band, color=NHS["green"], alpha=0.25, lw=0, label=band_label, gid="band")
        ax.set_ylim(bottom=0)
        if percent:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        if integer:
            ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.set_ylabel(y_label)
        ax.set_title(title)
        _month_axis(ax, all_dates)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        svg = _svg(fig, kind, uid, title)
    drawn = sum(1 for s in series for v in s.values if v is not None)
    return Chart(kind, svg, {"points": str(drawn)})


@dataclass
class Interval:
    """One estimate with its 95 % CI; value None = suppressed or not estimable."""

    label: str
    value: float | None
    lower: float | None
    upper: float | None
    benchmark: float | None = None
    group: str = ""


def interval_chart(
    kind: str,
    uid: str,
    title: str,
    rows: Sequence[Interval],
    *,
    x_label: str,
    reference: float | None = None,
    reference_label: str = "",
    percent: bool = False,
    benchmark_label: str = "benchmark",
    colour: str = NHS["blue"],
    group_colours: dict[str, str] | None = None,
    from_zero: bool = False,
) -> Chart:
    """Estimates with 95 % confidence intervals as points and whiskers, one row each (a forest
    plot); suppressed rows say so instead of a point; optional benchmark diamonds."""
    with matplotlib.rc_context(RC):
        fig = _figure(height=max(1.4, 0.7 + 0.28 * len(rows)))
        ax = fig.axes[0]
        ax.grid(axis="x", color=NHS["pale"])
        ax.grid(axis="y", visible=False)
        ys = list(range(len(rows)))[::-1]
        shown = [(y, r) for y, r in zip(ys, rows, strict=True) if r.value is not None]
        for y, r in shown:
            c = (group_colours or {}).get(r.group, colour)
            if r.lower is not None and r.upper is not None:
                ax.plot(
                    [r.lower, r.upper],
                    [y, y],
                    color=c,
                    lw=1.6,
                    solid_capstyle="butt",
                    gid=f"ci-{y}",
                )
            ax.plot([r.value], [y], "o", color=c, ms=5, gid=f"est-{y}")
        benches = [
            (y, r.benchmark) for y, r in zip(ys, rows, strict=True) if r.benchmark is not None
        ]
        if benches:
            ax.plot(
                [b for _, b in benches],
                [y for y, _ in benches],
                "D",
                color=NHS["red"],
                ms=5,
                mfc="none",
                mew=1.4,
                gid="benchmark",
            )
        if reference is not None:
            ax.axvline(reference, color=NHS["dark_grey"], lw=0.9, gid="reference")
        ax.set_yticks(ys, [r.label for r in rows])
        xs = [v for r in rows for v in (r.value, r.lower, r.upper, r.benchmark) if v is not None]
        if reference is not None:
            xs.append(reference)
        lo, hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
        if from_zero:  # a rate read against zero
            lo = min(lo, 0.0)
        pad = (hi - lo) * 0.08 or 1.0
        ax.set_xlim(0.0 if from_zero and lo >= 0 else lo - pad, hi + pad)
        for y, r in zip(ys, rows, strict=True):
            if r.value is None:
                ax.text(
                    lo, y, "suppressed", va="center", fontsize=8, color=NHS["grey"], style="italic"
                )
        if percent:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.4g}"))
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel(x_label)
        ax.set_title(title)
        handles = [Line2D([], [], color=colour, marker="o", lw=1.6, ms=5, label="estimate, 95% CI")]
        if group_colours:
            handles = [
                Line2D([], [], color=c, marker="o", lw=1.6, ms=5, label=g)
                for g, c in group_colours.items()
            ]
        if benches:
            handles.append(
                Line2D(
                    [],
                    [],
                    color=NHS["red"],
                    marker="D",
                    mfc="none",
                    lw=0,
                    mew=1.4,
                    ms=5,
                    label=benchmark_label,
                )
            )
        if reference is not None and reference_label:
            handles.append(Line2D([], [], color=NHS["dark_grey"], lw=0.9, label=reference_label))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        svg = _svg(fig, kind, uid, title)
    return Chart(kind, svg, {"points": str(len(shown))})


def band_chart(
    kind: str,
    uid: str,
    title: str,
    series: Sequence[
        tuple[
            str,
            Sequence[dt.date],
            Sequence[float | None],
            Sequence[float | None],
            Sequence[float | None],
            str,
        ]
    ],
    *,
    y_label: str,
    reference: float | None = None,
    reference_label: str = "",
    percent: bool = False,
    from_zero: bool = False,
) -> Chart:
    """Estimates over time with shaded 95 % CI bands: (label, dates, value, lower, upper,
    colour) per series."""
    with matplotlib.rc_context(RC):
        fig = _figure()
        ax = fig.axes[0]
        all_dates: list[dt.date] = []
        points = 0
        for i, (label, dates, vals, los, his, colour) in enumerate(series):
            nan = [math.nan if v is None else float(v) for v in vals]
            lo = [math.nan if v is None else float(v) for v in los]
            hi = [math.nan if v is None else float(v) for v in his]
            ax.fill_between(dates, lo, hi, color=colour, alpha=0.18, lw=0, gid=f"ci-{i}")
            ax.plot(
                dates, nan, color=colour, lw=1.6, marker="o", ms=3.5, label=label, gid=f"series-{i}"
            )
            all_dates += list(dates)
            points += sum(1 for v in vals if v is not None)
        if reference is not None:
            ax.axhline(
                reference, color=NHS["dark_grey"], lw=0.9, label=reference_label, gid="reference"
            )
        if from_zero:  # a count, time or share read against zero
            ax.set_ylim(bottom=0)
        if percent:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylabel(y_label)
        ax.set_title(title)
        _month_axis(ax, all_dates)
        handles, labels = ax.get_legend_handles_labels()
        handles.append(Patch(color=NHS["grey"], alpha=0.3, label="95% CI"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        svg = _svg(fig, kind, uid, title)
    return Chart(kind, svg, {"points": str(points)})


def uid_for(kind: str, *parts: object) -> str:
    """A page-unique, readable id for a chart (prefixes the SVG's internal ids)."""
    return _safe("-".join([kind, *(str(p) for p in parts)]))

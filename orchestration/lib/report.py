"""The nightly HTML report: pictures people would rather see than read, built from the
published DuckDB file only (so it can never show more than a BI tool can).

One self-contained static page, inline SVG and no scripts or downloads, so it opens from a
file share or an e-mail attachment: SPC charts per PCN, the ICB's link-worker trajectory against
its target line, coverage per PCN against the 0.8-1.2 % band, the equity breakdown, and the
ICB savings headline as a table beside its benchmarks. Suppressed cells are gaps, never zeros.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 640, 240, 56, 16, 16, 36
COLOURS = {"data": "#005eb8", "mean": "#425563", "limit": "#768692", "target": "#da291c"}
SPECIAL = {"special_cause_high": "#ed8b00", "special_cause_low": "#330072"}


@dataclass
class Series:
    label: str
    values: list[float | None]
    colour: str
    dashed: bool = False
    markers: list[str | None] | None = None  # per point colour for special-cause points


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2g}"


def line_chart(
    chart_id: str,
    title: str,
    x_labels: list[str],
    series: list[Series],
    band: tuple[float, float] | None = None,
    y_format: str | None = None,
) -> str:
    """An SVG line chart; None values break the line (suppressed or missing)."""
    values = [v for s in series for v in s.values if v is not None]
    if band:
        values += list(band)
    # Axes start at zero (a rate or count chart that does not is misread) and end just above
    # the largest value or band edge.
    lo = min(values + [0.0])
    hi = max(values) * 1.08 if values and max(values) > 0 else 1.0
    # Whole numbers unless the axis is short enough that ticks would repeat (2, 2, 1, 1).
    y_format = y_format or ("{:,.0f}" if hi - lo >= 8 else "{:,.1f}")
    n = max(len(x_labels), 2)
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def x(i: int) -> float:
        return PAD_L + plot_w * i / (n - 1)

    def y(v: float) -> float:
        return PAD_T + plot_h * (1 - (v - lo) / ((hi - lo) or 1))

    parts = [
        f'<svg class="chart" data-chart="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{html.escape(title)}">'
    ]
    if band:
        parts.append(
            f'<rect class="band" x="{PAD_L}" y="{y(band[1]):.1f}" width="{plot_w}" '
            f'height="{y(band[0]) - y(band[1]):.1f}" fill="#78be20" opacity="0.25"/>'
        )
    for tick in range(5):
        v = lo + (hi - lo) * tick / 4
        parts.append(
            f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            'stroke="#e8edee"/>'
            f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{html.escape(y_format.format(v))}</text>"
        )
    step = max(1, len(x_labels) // 8)
    for i in range(0, len(x_labels), step):
        parts.append(
            f'<text x="{x(i):.1f}" y="{HEIGHT - 12}" text-anchor="middle" font-size="11">'
            f"{html.escape(x_labels[i])}</text>"
        )
    for s in series:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((x(i), y(v)))
        for run in runs:
            if len(run) >= 2:
                d = "M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in run)
                dash = ' stroke-dasharray="5,4"' if s.dashed else ""
                parts.append(
                    f'<path class="series" data-series="{html.escape(s.label)}" d="{d}" '
                    f'fill="none" stroke="{s.colour}" stroke-width="2"{dash}/>'
                )
        for i, v in enumerate(s.values):
            if v is not None and not s.dashed:
                colour = (s.markers[i] if s.markers else None) or s.colour
                parts.append(
                    f'<circle class="point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" '
                    f'fill="{colour}"><title>{html.escape(x_labels[i])}: {_fmt(v)}</title>'
                    "</circle>"
                )
    legend_x = PAD_L
    for s in series:
        parts.append(
            f'<text x="{legend_x}" y="{PAD_T + 10}" font-size="11" fill="{s.colour}">'
            f"{html.escape(s.label)}</text>"
        )
        legend_x += 9 * len(s.label) + 20
    parts.append("</svg>")
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{''.join(parts)}</figure>"


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, float | None, float, float]]) -> str:
    """Horizontal bars with confidence intervals: (label, value, ci_lower, ci_upper)."""
    row_h = 22
    height = PAD_T + PAD_B + row_h * max(len(bars), 1)
    top = max([b[3] for b in bars if b[1] is not None] + [1.0]) * 1.05
    plot_w = WIDTH - 180 - PAD_R
    parts = [
        f'<svg class="chart" data-chart="{chart_id}" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{html.escape(title)}">'
    ]
    for i, (label, value, ci_lo, ci_hi) in enumerate(bars):
        cy = PAD_T + i * row_h
        parts.append(
            f'<text x="174" y="{cy + 15}" text-anchor="end" font-size="11">{html.escape(label)}'
            "</text>"
        )
        if value is None:
            parts.append(
                f'<text x="184" y="{cy + 15}" font-size="11" fill="#768692">suppressed</text>'
            )
            continue
        w = plot_w * value / top
        parts.append(
            f'<rect class="bar" x="180" y="{cy + 4}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{COLOURS["data"]}"><title>{_fmt(value)} per 1,000</title></rect>'
            f'<line x1="{180 + plot_w * ci_lo / top:.1f}" x2="{180 + plot_w * ci_hi / top:.1f}" '
            f'y1="{cy + row_h / 2}" y2="{cy + row_h / 2}" stroke="#231f20" stroke-width="1.5"/>'
        )
    parts.append("</svg>")
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{''.join(parts)}</figure>"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    # A table not in the published file (never built: its sources have not landed) has no
    # chart; the section says so rather than the report failing.
    table = re.search(r"\bfrom (\w+)", sql).group(1)
    if table not in {
        name for (name,) in con.sql("select table_name from duckdb_tables()").fetchall()
    }:
        return []
    rel = con.sql(sql)
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def _month(d: dt.date) -> str:
    return d.strftime("%b %y")


def build_report(published_file: Path, out_file: Path) -> dict[str, int]:
    """Write the report; returns how many charts of each kind it drew."""
    con = duckdb.connect(str(published_file), read_only=True)
    try:
        run = _rows(con, "select run_id, published_at from _publication")[0]
        spc = _rows(
            con,
            "select org_code, month_start, referrals, mean, upper_limit, lower_limit, "
            "variation_type from pub_referrals_spc where org_level = 'pcn' "
            "order by org_code, month_start",
        )
        trajectory = _rows(
            con,
            "select icb_code, census_month, splw_headcount, splw_fte, icb_target_posts "
            "from pub_workforce_trajectory order by icb_code, census_month",
        )
        coverage = _rows(
            con,
            "select org_code, month_start, coverage_rate, band_lower, band_upper "
            "from pub_referral_coverage where org_level = 'pcn' and has_full_12_months "
            "order by org_code, month_start",
        )
        equity = _rows(
            con,
            "select org_code, dimension, dimension_value, rate_per_1000, "
            "rate_per_1000_ci_lower, rate_per_1000_ci_upper from pub_referral_equity "
            "where org_level = 'icb' order by org_code, dimension, dimension_value",
        )
        savings = _rows(
            con,
            "select icb_code, measure_code, measure_unit, referred_people, referred_pre_mean, "
            "comparison_pre_mean, did_per_person, did_ci_lower, did_ci_upper, relative_change, "
            "relative_change_ci_lower, relative_change_ci_upper, avoided_total, "
            "avoided_total_ci_lower, avoided_total_ci_upper, benchmark_relative_change, "
            "is_benchmark_within_ci from pub_utilisation_savings_headline "
            "order by icb_code, measure_code",
        )
    finally:
        con.close()

    sections: list[str] = []
    drawn = {"spc": 0, "trajectory": 0, "coverage": 0, "equity": 0}

    charts = []
    for pcn in sorted({r["org_code"] for r in spc}):
        rows = [r for r in spc if r["org_code"] == pcn]
        labels = [_month(r["month_start"]) for r in rows]
        points = [None if r["referrals"] is None else float(r["referrals"]) for r in rows]
        charts.append(
            line_chart(
                "spc",
                f"{pcn}: referral episodes per month (XmR)",
                labels,
                [
                    Series(
                        "referrals",
                        points,
                        COLOURS["data"],
                        markers=[SPECIAL.get(r["variation_type"]) for r in rows],
                    ),
                    Series("mean", [r["mean"] for r in rows], COLOURS["mean"], dashed=True),
                    Series("limits", [r["upper_limit"] for r in rows], COLOURS["limit"], True),
                    Series("", [max(r["lower_limit"], 0) for r in rows], COLOURS["limit"], True),
                ],
            )
        )
        drawn["spc"] += 1
    sections.append(_section("SPC: referrals per PCN", charts, SPC_NOTE))

    charts = []
    for icb in sorted({r["icb_code"] for r in trajectory}):
        rows = [r for r in trajectory if r["icb_code"] == icb]
        charts.append(
            line_chart(
                "trajectory",
                f"{icb}: link workers against the ICB's share of the national line",
                [_month(r["census_month"]) for r in rows],
                [
                    Series("headcount", [r["splw_headcount"] for r in rows], COLOURS["data"]),
                    Series("FTE", [r["splw_fte"] for r in rows], COLOURS["mean"]),
                    Series(
                        "target", [r["icb_target_posts"] for r in rows], COLOURS["target"], True
                    ),
                ],
            )
        )
        drawn["trajectory"] += 1
    sections.append(_section("Workforce trajectory", charts, TRAJECTORY_NOTE))

    charts = []
    for pcn in sorted({r["org_code"] for r in coverage}):
        rows = [r for r in coverage if r["org_code"] == pcn]
        charts.append(
            line_chart(
                "coverage",
                f"{pcn}: referrals in 12 months / registered population",
                [_month(r["month_start"]) for r in rows],
                [
                    Series(
                        "coverage",
                        [None if r["coverage_rate"] is None else r["coverage_rate"] for r in rows],
                        COLOURS["data"],
                    )
                ],
                band=(rows[0]["band_lower"], rows[0]["band_upper"]),
                y_format="{:.2%}",
            )
        )
        drawn["coverage"] += 1
    sections.append(_section("Coverage against the 0.8-1.2 % band", charts, COVERAGE_NOTE))

    charts = []
    for icb in sorted({r["org_code"] for r in equity}):
        for dim in sorted({r["dimension"] for r in equity if r["org_code"] == icb}):
            rows = [r for r in equity if r["org_code"] == icb and r["dimension"] == dim]
            charts.append(
                bar_chart(
                    "equity",
                    f"{icb}: people referred per 1,000 by {dim.replace('_', ' ')} (95% CI)",
                    [
                        (
                            str(r["dimension_value"]),
                            r["rate_per_1000"],
                            r["rate_per_1000_ci_lower"] or 0.0,
                            r["rate_per_1000_ci_upper"] or 0.0,
                        )
                        for r in rows
                    ],
                )
            )
            drawn["equity"] += 1
    sections.append(_section("Equity: who is referred", charts, EQUITY_NOTE))

    tables = [
        savings_table(icb, [r for r in savings if r["icb_code"] == icb])
        for icb in sorted({r["icb_code"] for r in savings})
    ]
    sections.append(_section("Savings headline against the benchmarks", tables, SAVINGS_NOTE))

    out_file.parent.mkdir(parents=True, exist_ok=True)
    page = PAGE.format(
        run_id=html.escape(str(run["run_id"])),
        published_at=html.escape(str(run["published_at"])[:19]),
        sections="\n".join(sections),
    )
    tmp = out_file.with_name(f".{out_file.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out_file)  # a reader of the report never sees half a page either
    return drawn


MEASURE_ORDER = (
    "gp_appointments",
    "ae_attendances",
    "nel_admissions",
    "op_attendances",
    "secondary_care_cost_gbp",
    "total_cost_gbp",
    "kgco2e",
)
MEASURE_LABELS = {
    "gp_appointments": "GP appointments",
    "ae_attendances": "A&amp;E attendances",
    "nel_admissions": "Non-elective admissions",
    "op_attendances": "Outpatient attendances",
    "secondary_care_cost_gbp": "Secondary-care cost (&pound;)",
    "total_cost_gbp": "Total cost (&pound;)",
    "kgco2e": "Carbon (kgCO2e)",
}


def _num(v: float | None, unit: str, total: bool = False) -> str:
    if v is None:
        return "&ndash;"  # suppressed or not estimable: a gap, never a zero
    # totals over all referred people in whole units; per-person figures to 2 places
    text = f"{abs(v):,.0f}" if total or (unit == "gbp" and abs(v) >= 100) else f"{abs(v):,.2f}"
    sign = "-" if v < 0 and text.strip("0.,") else ""
    return f"{sign}&pound;{text}" if unit == "gbp" else f"{sign}{text}"


def _pct(v: float | None) -> str:
    return "&ndash;" if v is None else f"{v:+.0%}"


def savings_table(icb: str, rows: list[dict]) -> str:
    """One ICB's savings headline: per measure the pre-period means, the DiD per person and the
    change relative to the referred pre-period mean with 95 % CIs, the benchmark beside it, and
    the total avoided over all referred people."""
    order = {m: i for i, m in enumerate(MEASURE_ORDER)}
    body = []
    for r in sorted(rows, key=lambda r: order.get(r["measure_code"], len(order))):
        unit = r["measure_unit"]
        bench = r["benchmark_relative_change"]
        verdict = {True: "within CI", False: "outside CI", None: ""}[r["is_benchmark_within_ci"]]
        body.append(
            "<tr>"
            f"<td>{MEASURE_LABELS.get(r['measure_code'], html.escape(r['measure_code']))}</td>"
            f"<td>{_num(r['referred_pre_mean'], unit)}</td>"
            f"<td>{_num(r['comparison_pre_mean'], unit)}</td>"
            f"<td>{_num(r['did_per_person'], unit)} ({_num(r['did_ci_lower'], unit)} to "
            f"{_num(r['did_ci_upper'], unit)})</td>"
            f"<td>{_pct(r['relative_change'])} ({_pct(r['relative_change_ci_lower'])} to "
            f"{_pct(r['relative_change_ci_upper'])})</td>"
            f"<td>{'' if bench is None else _pct(bench)} {verdict}</td>"
            f"<td>{_num(r['avoided_total'], unit, True)} ({_num(r['avoided_total_ci_lower'], unit, True)}"
            f" to {_num(r['avoided_total_ci_upper'], unit, True)})</td>"
            "</tr>"
        )
    people = rows[0]["referred_people"] if rows else None
    caption = (
        f"{html.escape(icb)}: {'suppressed' if people is None else f'{people:,}'} referred people "
        "against matched comparison people, per person over 6 months before and after referral"
    )
    head = (
        "<tr><th>Measure</th><th>Referred, before</th><th>Comparison, before</th>"
        "<th>Change per person (DiD, 95% CI)</th><th>Relative change (95% CI)</th>"
        "<th>Benchmark</th><th>Avoided in total (95% CI)</th></tr>"
    )
    return (
        f'<figure data-table="savings"><figcaption>{caption}</figcaption>'
        f"<table>{head}{''.join(body)}</table></figure>"
    )


def _section(title: str, charts: list[str], note: str) -> str:
    body = "".join(charts) or '<p class="empty">Nothing published for this section.</p>'
    return f'<section><h2>{html.escape(title)}</h2><p class="note">{note}</p>{body}</section>'


SPC_NOTE = (
    "XmR charts (NHS Making Data Count): mean and process limits (mean &plusmn; 2.66 &times; "
    "mean moving range) recalculated from the quality-improvement change date; orange and "
    "purple points are special cause. Gaps are months suppressed to protect privacy."
)
TRAJECTORY_NOTE = (
    "Social prescribing link workers (headcount and FTE) against the ICB's population share of "
    "the national line from 3,000 posts (Sept 2022) to 9,000 (March 2037)."
)
COVERAGE_NOTE = (
    "Referral episodes in the 12 months to each month over the registered population; the "
    "green band is the former IIF target of 0.8-1.2 %."
)
EQUITY_NOTE = (
    "People referred in the latest 12 months per 1,000 people in each group, with 95 % Wilson "
    "intervals. Groups with fewer than 8 people referred are suppressed."
)
SAVINGS_NOTE = (
    "Difference-in-differences over every referred person of the ICB with a matched comparison "
    "set: negative = fewer contacts, less money, less carbon than the comparison group's change "
    "would predict. Relative change = DiD / the referred people's own level before referral, "
    "beside the published claims (up to 40 % fewer GP appointments, 27 % lower secondary-care "
    "cost). Secondary care = A&amp;E + non-elective admissions + outpatients; unit costs and "
    "their price years are in the unit_costs seed (docs/methods.md)."
)
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Social prescribing: nightly report</title>
<style>
body {{ font-family: Arial, sans-serif; margin: 24px; color: #231f20; max-width: 1400px; }}
h1 {{ color: #005eb8; }} section {{ margin-bottom: 32px; }}
figure {{ display: inline-block; margin: 8px; border: 1px solid #e8edee; padding: 8px; }}
figcaption {{ font-size: 13px; font-weight: bold; margin-bottom: 4px; }}
.note {{ font-size: 13px; color: #425563; max-width: 900px; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #e8edee; padding: 4px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
</style></head>
<body>
<h1>Social prescribing: nightly report</h1>
<p class="note">Built from the published marts (aggregates under disclosure control: counts 1-7
suppressed, others rounded to 5). Publication <code>{run_id}</code> at {published_at} UTC.</p>
{sections}
</body></html>
"""

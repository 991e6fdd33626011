"""The nightly HTML report: pictures for the ICB's own people (analysts, PCN and practice QI
leads), built from the published files only (so it can never show more than a BI tool can).

One self-contained static page, inline SVG drawn by matplotlib (``orchestration/lib/publish/charts.py``)
and no scripts or downloads, so it opens from a file share or an e-mail attachment on a network
without the internet. Charts:

* SPC (NHS Making Data Count): referral episodes per week for the ICB, each PCN and each
  practice with a QI intervention, with variation and assurance icons; read from the internal
  audience's file (exact counts) where it exists, because public disclosure control suppresses
  most of a PCN's or practice's small counts and leaves the charts empty. Where the internal
  file is absent (a copy of the public file alone), the public monthly PCN and ICB charts.
* The ICB SPC of the public file (monthly, disclosure-controlled): what leaves the ICB.
* QI intervention effects (internal): the rate ratio after/before each intervention, 95 % CI.
* Link-worker trajectory against the ICB's share of the national line (public; staff counts are
  published exactly).
* Coverage against the 0.8-1.2 % band (internal exact where it exists, else public).
* Equity (public): people referred per 1,000 by group with 95 % CIs; rolling 12-month rate
  ratios with CIs where ``pub_referral_equity_rolling`` is published.
* Wellbeing (public): change by measure with 95 % CIs and quarter where
  ``pub_wellbeing_quarterly`` is published, else the pooled means of ``pub_wellbeing_outcomes``.
* Savings (public): relative change per measure with 95 % CIs beside the benchmarks, and the
  headline table.
* Pathway (public, where ``pub_pathway_quarterly``/``pub_pathway_categories`` are published):
  days to first contact and the share contacted within 14 days by quarter, needs mix.

Every chart says which file it reads. Suppressed cells are gaps, never zeros.
"""

from __future__ import annotations

import datetime as dt
import html
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.publish.charts import (
    MDC,
    NHS,
    Chart,
    Interval,
    LineSeries,
    SpcPoint,
    band_chart,
    interval_chart,
    line_chart,
    spc_chart,
    uid_for,
)
from orchestration.lib.publish.report_page import (
    COVERAGE_NOTE,
    EQUITY_NOTE,
    IMPROVEMENT,
    INTERNAL,
    INTERNAL_BANNER,
    MEASURE_LABELS,
    MEASURE_ORDER,
    PAGE,
    PATHWAY_NOTE,
    PUBLIC,
    PUBLIC_BANNER,
    QI_NOTE,
    SAVINGS_NOTE,
    SPC_NOTE,
    TRAJECTORY_NOTE,
    WELLBEING_NOTE,
    empty_card,
    figure_card,
    mdc_key,
    savings_table,
    section_html,
)

INTERNAL_FILE = Path("internal") / "marts.duckdb"  # beside the public file (publish.py layout)
WEEKS_PER_YEAR = 365.25 / 7
COVERAGE_TARGET = 0.008  # lower edge of the 0.8-1.2 % band (former IIF target), per 12 months


class _Files:
    """The public file and, where it exists, the internal one, both read-only; and the charts
    the sections drew from them, counted by kind (what ``build_report`` returns)."""

    def __init__(self, public: Path, internal: Path | None) -> None:
        self.cons = {PUBLIC: duckdb.connect(str(public), read_only=True)}
        if internal is not None and internal.exists():
            self.cons[INTERNAL] = duckdb.connect(str(internal), read_only=True)
        self.drawn = dict.fromkeys(KINDS, 0)

    def figure(
        self, chart: Chart, audience: str, caption: str, org: str = "", note: str = ""
    ) -> str:
        """A chart's card on the page, counted as drawn."""
        self.drawn[chart.kind] += 1
        return figure_card(chart, audience, caption, org, note)

    def has(self, audience: str, table: str) -> bool:
        con = self.cons.get(audience)
        if con is None:
            return False
        names = con.execute("select table_name from duckdb_tables()").fetchall()
        return table in {n for (n,) in names}

    def rows(
        self, audience: str, table: str, sql: str, params: Iterable[object] = ()
    ) -> list[dict]:
        """The rows of ``sql``, a query on ``table``. A table not in the file (never built: its
        sources have not landed, or a mart not yet published) has no rows, and so no chart; the
        section says so rather than the report failing."""
        if not self.has(audience, table):
            return []
        cur = self.cons[audience].execute(sql, list(params))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def columns(self, audience: str, table: str) -> set[str]:
        if not self.has(audience, table):
            return set()
        cur = self.cons[audience].execute(f'select * from "{table}" limit 0')  # a known name
        return {d[0] for d in cur.description}

    def close(self) -> None:
        for con in self.cons.values():
            con.close()


def _month(d: dt.date) -> str:
    return d.strftime("%b %Y")


def _spc_points(rows: list[dict], date_col: str) -> list[SpcPoint]:
    return [
        SpcPoint(
            date=r[date_col],
            value=None if r["referrals"] is None else float(r["referrals"]),
            mean=r["mean"],
            upper=r["upper_limit"],
            lower=r["lower_limit"],
            period=int(r["spc_period"] or 1),
            variation=r["variation_type"],
            complete=r.get("is_complete") is not False,
        )
        for r in rows
    ]


def _populations(files: _Files, audience: str) -> dict[tuple[str, str], float]:
    """Latest registered population per (org level, org), for the SPC target."""
    table = "pub_internal_referral_coverage" if audience == INTERNAL else "pub_referral_coverage"
    rows = files.rows(
        audience,
        table,
        f"select org_level, org_code, arg_max(registered_patients, month_start) as pop from {table} "
        "where registered_patients is not null group by org_level, org_code",
    )
    out = {(r["org_level"], r["org_code"]): float(r["pop"]) for r in rows}
    if audience == PUBLIC:
        # Public coverage has no ICB rows; the workforce trajectory carries the ICB's population.
        for r in files.rows(
            PUBLIC,
            "pub_workforce_trajectory",
            "select icb_code, arg_max(icb_registered_patients, census_month) as pop "
            "from pub_workforce_trajectory where icb_registered_patients is not null "
            "group by icb_code",
        ):
            out.setdefault(("icb", r["icb_code"]), float(r["pop"]))
    return out


def _spc_one(
    files: _Files,
    kind: str,
    audience: str,
    level: str,
    org: str,
    rows: list[dict],
    date_col: str,
    per: str,
    populations: dict[tuple[str, str], float],
) -> str:
    """One unit's SPC figure (an empty card when every point is suppressed)."""
    unit = {"practice": "practice", "pcn": "PCN", "icb": "ICB"}[level]
    caption = f"{unit} {org}: referral episodes per {per} (XmR)"
    points = _spc_points(rows, date_col)
    if not any(p.value is not None for p in points):
        why = (
            f"All {len(points)} {per}s are suppressed by disclosure control (counts 1-7): "
            "nothing to draw. The internal report shows exact counts."
        )
        return empty_card(caption, audience, why)
    pop = populations.get((level, org))
    periods_per_year = WEEKS_PER_YEAR if per == "week" else 12
    target = pop * COVERAGE_TARGET / periods_per_year if pop else None
    chart = spc_chart(
        kind,
        uid_for(kind, audience, level, org),
        f"{unit} {org}",
        points,
        y_label=f"referral episodes per {per}",
        improvement=IMPROVEMENT["referrals"][0],
        target=target,
        target_label="target (0.8% a year)",
    )
    target_note = (
        f"Target: {target:.2f} a {per}, the 0.8 % lower edge of the coverage band over the "
        f"registered population ({pop:,.0f})."
        if target
        else "No target: no registered population published for this unit."
    )
    changes = sorted({p.period for p in points})
    change_note = (
        f" Limits recalculated at {len(changes) - 1} QI intervention(s) (dotted line)."
        if len(changes) > 1
        else ""
    )
    note = f"Improvement: higher. {target_note}{change_note}"
    return files.figure(chart, audience, caption, org, note)


def spc_section(files: _Files) -> list[str]:
    """SPC charts: internal weekly (ICB, PCNs, QI practices) where the internal file exists,
    else the public monthly PCN charts; and always the public monthly ICB chart."""
    out: list[str] = []
    if files.has(INTERNAL, "pub_internal_qi_referrals_spc"):
        rows = files.rows(
            INTERNAL,
            "pub_internal_qi_referrals_spc",
            "select org_level, org_code, week_start, spc_period, referrals, mean, upper_limit, "
            "lower_limit, variation_type from pub_internal_qi_referrals_spc "
            "order by org_level, org_code, week_start",
        )
        qi_units = {
            (r["unit_level"], r["unit_code"])
            for r in files.rows(
                INTERNAL,
                "pub_internal_qi_intervention_effects",
                "select unit_level, unit_code from pub_internal_qi_intervention_effects",
            )
        }
        populations = _populations(files, INTERNAL)
        for level in ("icb", "pcn", "practice"):
            for org in sorted({r["org_code"] for r in rows if r["org_level"] == level}):
                # Practices: the ones with a QI intervention (their leads' charts); all ~150
                # practices of an ICB would bury them.
                if level == "practice" and (level, org) not in qi_units:
                    continue
                kind = "spc_icb" if level == "icb" else "spc"
                org_rows = [r for r in rows if r["org_level"] == level and r["org_code"] == org]
                out.append(
                    _spc_one(
                        files,
                        kind,
                        INTERNAL,
                        level,
                        org,
                        org_rows,
                        "week_start",
                        "week",
                        populations,
                    )
                )
    public = files.rows(
        PUBLIC,
        "pub_referrals_spc",
        "select org_level, org_code, month_start, spc_period, referrals, mean, upper_limit, "
        "lower_limit, variation_type, is_complete from pub_referrals_spc "
        "order by org_level, org_code, month_start",
    )
    populations = _populations(files, PUBLIC)
    levels = ("icb",) if INTERNAL in files.cons else ("icb", "pcn")
    for level in levels:
        for org in sorted({r["org_code"] for r in public if r["org_level"] == level}):
            kind = "spc_icb" if level == "icb" else "spc"
            org_rows = [r for r in public if r["org_level"] == level and r["org_code"] == org]
            out.append(
                _spc_one(
                    files, kind, PUBLIC, level, org, org_rows, "month_start", "month", populations
                )
            )
    return out


def qi_effects_section(files: _Files) -> list[str]:
    rows = files.rows(
        INTERNAL,
        "pub_internal_qi_intervention_effects",
        "select intervention_id, unit_level, unit_code, intervention_date, kind, rate_ratio, "
        "rate_ratio_ci_lower, rate_ratio_ci_upper, is_complete "
        "from pub_internal_qi_intervention_effects order by intervention_date, intervention_id",
    )
    if not rows:
        return []
    chart = interval_chart(
        "qi_effects",
        uid_for("qi_effects"),
        "Referral rate after / before each QI intervention",
        [
            Interval(
                f"{r['unit_code']} {r['intervention_date']:%d %b %Y} ({r['kind'].replace('_', ' ')})",
                r["rate_ratio"],
                r["rate_ratio_ci_lower"],
                r["rate_ratio_ci_upper"],
            )
            for r in rows
        ],
        x_label="rate ratio (follow-up / baseline), 95% CI",
        reference=1.0,
        reference_label="no change",
    )
    return [
        files.figure(
            chart,
            INTERNAL,
            "QI interventions: referral rate ratio",
            note="Poisson rate ratio of referral episodes per month in the follow-up window to "
            "the baseline window, 95 % CI (pub_internal_qi_intervention_effects). Above 1: more "
            "referrals after the intervention (improvement).",
        )
    ]


def trajectory_section(files: _Files) -> list[str]:
    rows = files.rows(
        PUBLIC,
        "pub_workforce_trajectory",
        "select icb_code, census_month, splw_headcount, splw_fte, icb_target_posts "
        "from pub_workforce_trajectory order by icb_code, census_month",
    )
    out = []
    for icb in sorted({r["icb_code"] for r in rows}):
        own = [r for r in rows if r["icb_code"] == icb]
        dates = [r["census_month"] for r in own]
        chart = line_chart(
            "trajectory",
            uid_for("trajectory", icb),
            f"ICB {icb}: social prescribing link workers",
            [
                LineSeries("headcount", dates, [r["splw_headcount"] for r in own], NHS["blue"]),
                LineSeries("FTE", dates, [r["splw_fte"] for r in own], NHS["dark_grey"]),
                LineSeries(
                    "target (ICB share of national line)",
                    dates,
                    [r["icb_target_posts"] for r in own],
                    MDC["target"],
                    dashed=True,
                ),
            ],
            y_label="link workers",
        )
        latest = own[-1]
        out.append(
            files.figure(
                chart,
                PUBLIC,
                f"ICB {icb}: link workers against target",
                icb,
                f"Improvement: higher. Latest ({_month(latest['census_month'])}): headcount "
                f"{latest['splw_headcount']}, target {latest['icb_target_posts']:.1f}.",
            )
        )
    return out


def coverage_section(files: _Files) -> list[str]:
    if files.has(INTERNAL, "pub_internal_referral_coverage"):
        audience = INTERNAL
        rows = files.rows(
            INTERNAL,
            "pub_internal_referral_coverage",
            "select org_level, org_code, month_start, coverage_rate, band_lower, band_upper "
            "from pub_internal_referral_coverage where org_level in ('icb', 'pcn') "
            "and is_complete order by org_level, org_code, month_start",
        )
    else:
        audience = PUBLIC
        rows = files.rows(
            PUBLIC,
            "pub_referral_coverage",
            "select org_level, org_code, month_start, coverage_rate, band_lower, band_upper "
            "from pub_referral_coverage where org_level in ('icb', 'pcn') and has_full_12_months "
            "order by org_level, org_code, month_start",
        )
    out = []
    for level in ("icb", "pcn"):
        for org in sorted({r["org_code"] for r in rows if r["org_level"] == level}):
            own = [r for r in rows if r["org_level"] == level and r["org_code"] == org]
            unit = "ICB" if level == "icb" else "PCN"
            chart = line_chart(
                "coverage",
                uid_for("coverage", audience, level, org),
                f"{unit} {org}: referrals in 12 months / registered population",
                [
                    LineSeries(
                        "coverage",
                        [r["month_start"] for r in own],
                        [r["coverage_rate"] for r in own],
                        NHS["blue"],
                    )
                ],
                y_label="coverage (12 months)",
                band=(own[0]["band_lower"], own[0]["band_upper"]),
                band_label="0.8-1.2% band",
                percent=True,
            )
            out.append(files.figure(chart, audience, f"{unit} {org}: coverage", org))
    return out


def equity_section(files: _Files) -> list[str]:
    rows = files.rows(
        PUBLIC,
        "pub_referral_equity",
        "select org_code, dimension, dimension_value, rate_per_1000, rate_per_1000_ci_lower, "
        "rate_per_1000_ci_upper, period_start, period_end from pub_referral_equity "
        "where org_level = 'icb' order by org_code, dimension, dimension_value",
    )
    out = []
    for icb in sorted({r["org_code"] for r in rows}):
        for dim in sorted({r["dimension"] for r in rows if r["org_code"] == icb}):
            own = [r for r in rows if r["org_code"] == icb and r["dimension"] == dim]
            label = dim.replace("_", " ")
            chart = interval_chart(
                "equity",
                uid_for("equity", icb, dim),
                f"ICB {icb}: people referred per 1,000 by {label}",
                [
                    Interval(
                        str(r["dimension_value"]),
                        r["rate_per_1000"],
                        r["rate_per_1000_ci_lower"],
                        r["rate_per_1000_ci_upper"],
                    )
                    for r in own
                ],
                x_label="people referred per 1,000 (95% Wilson CI)",
                from_zero=True,
            )
            period = f"{own[0]['period_start']:%b %Y} to {own[0]['period_end']:%b %Y}"
            out.append(
                files.figure(chart, PUBLIC, f"ICB {icb}: referral rate by {label}, {period}", icb)
            )
    out += equity_rolling_section(files)
    return out


def equity_rolling_section(files: _Files) -> list[str]:
    """Rolling 12-month rate ratios to each dimension's reference group with 95 % CIs
    (pub_referral_equity_rolling), complete windows only."""
    rows = files.rows(
        PUBLIC,
        "pub_referral_equity_rolling",
        "select org_code, window_end_month, dimension, dimension_value, reference_value, "
        "is_reference_group, rate_ratio, rate_ratio_ci_lower, rate_ratio_ci_upper "
        "from pub_referral_equity_rolling where org_level = 'icb' and is_complete "
        "order by org_code, dimension, dimension_value, window_end_month",
    )
    out = []
    for icb in sorted({r["org_code"] for r in rows}):
        for dim in sorted({r["dimension"] for r in rows if r["org_code"] == icb}):
            own = [r for r in rows if r["org_code"] == icb and r["dimension"] == dim]
            reference = own[0]["reference_value"]
            groups = sorted({r["dimension_value"] for r in own if not r["is_reference_group"]})
            series = []
            for i, group in enumerate(groups):
                g = [r for r in own if r["dimension_value"] == group]
                series.append(
                    (
                        str(group),
                        [r["window_end_month"] for r in g],
                        [r["rate_ratio"] for r in g],
                        [r["rate_ratio_ci_lower"] for r in g],
                        [r["rate_ratio_ci_upper"] for r in g],
                        PALETTE[i % len(PALETTE)],
                    )
                )
            label = dim.replace("_", " ")
            chart = band_chart(
                "equity_rolling",
                uid_for("equity_rolling", icb, dim),
                f"ICB {icb}: referral rate ratio by {label}, rolling 12 months",
                series,
                y_label=f"rate ratio to {reference}",
                reference=1.0,
                reference_label=f"reference group: {reference}",
            )
            if chart.attrs["points"] == "0":
                continue  # every window of every group suppressed: nothing to draw
            out.append(
                files.figure(
                    chart,
                    PUBLIC,
                    f"ICB {icb}: rate ratio by {label} over time",
                    icb,
                    "People referred per 1,000 in the 12 months to each month over the reference "
                    "group's rate, with Katz 95 % intervals (pub_referral_equity_rolling). Below "
                    "1: the group is referred less than the reference group.",
                )
            )
    return out


def wellbeing_section(files: _Files) -> list[str]:
    if files.has(PUBLIC, "pub_wellbeing_quarterly"):
        return wellbeing_quarterly_section(files)
    rows = files.rows(
        PUBLIC,
        "pub_wellbeing_outcomes",
        "select org_code, measure_code, higher_is_better, paired_episodes, mean_improvement "
        "from pub_wellbeing_outcomes where org_level = 'icb' order by org_code, measure_code",
    )
    out = []
    for icb in sorted({r["org_code"] for r in rows}):
        own = [r for r in rows if r["org_code"] == icb]
        chart = interval_chart(
            "wellbeing",
            uid_for("wellbeing", icb),
            f"ICB {icb}: mean improvement from baseline to follow-up",
            [
                Interval(
                    f"{r['measure_code']} ({'higher' if r['higher_is_better'] else 'lower'} "
                    "is better)",
                    r["mean_improvement"],
                    None,
                    None,
                )
                for r in own
            ],
            x_label="mean improvement (points, in each measure's better direction)",
            reference=0.0,
            reference_label="no change",
        )
        out.append(
            files.figure(
                chart,
                PUBLIC,
                f"ICB {icb}: wellbeing change",
                icb,
                "Pooled over all paired episodes (pub_wellbeing_outcomes). This mart publishes "
                "no interval: the quarterly mart (pub_wellbeing_quarterly) adds 95 % CIs and is "
                "drawn instead where it is published.",
            )
        )
    return out


def wellbeing_quarterly_section(files: _Files) -> list[str]:
    """Mean change (follow-up minus baseline) with its 95 % t interval per measure by quarter of
    the baseline (pub_wellbeing_quarterly), complete quarters only."""
    rows = files.rows(
        PUBLIC,
        "pub_wellbeing_quarterly",
        "select org_code, baseline_quarter, measure_code, higher_is_better, people_followed_up, "
        "mean_change, mean_change_ci_lower, mean_change_ci_upper, improved_proportion, "
        "improved_proportion_ci_lower, improved_proportion_ci_upper "
        "from pub_wellbeing_quarterly where org_level = 'icb' and is_complete "
        "order by org_code, measure_code, baseline_quarter",
    )
    out = []
    for icb in sorted({r["org_code"] for r in rows}):
        for measure in sorted({r["measure_code"] for r in rows if r["org_code"] == icb}):
            own = [r for r in rows if r["org_code"] == icb and r["measure_code"] == measure]
            better = "higher" if own[0]["higher_is_better"] else "lower"
            chart = band_chart(
                "wellbeing",
                uid_for("wellbeing", icb, measure),
                f"ICB {icb}: {measure}, change from baseline ({better} is better)",
                [
                    (
                        "mean change",
                        [r["baseline_quarter"] for r in own],
                        [r["mean_change"] for r in own],
                        [r["mean_change_ci_lower"] for r in own],
                        [r["mean_change_ci_upper"] for r in own],
                        NHS["blue"],
                    )
                ],
                y_label="follow-up minus baseline",
                reference=0.0,
                reference_label="no change",
            )
            if chart.attrs["points"] == "0":
                continue
            out.append(
                files.figure(
                    chart,
                    PUBLIC,
                    f"ICB {icb}: {measure} by quarter of the baseline",
                    icb,
                    f"Improvement: {better} scores, so a {'positive' if better == 'higher' else 'negative'} "
                    "change. Mean change of the people followed up with its 95 % t interval "
                    "(pub_wellbeing_quarterly; meaningful-change rules in seed meaningful_change).",
                )
            )
    return out


def savings_section(files: _Files) -> list[str]:
    savings = files.rows(
        PUBLIC,
        "pub_utilisation_savings_headline",
        "select icb_code, measure_code, measure_unit, referred_people, referred_pre_mean, "
        "comparison_pre_mean, did_per_person, did_ci_lower, did_ci_upper, relative_change, "
        "relative_change_ci_lower, relative_change_ci_upper, avoided_total, "
        "avoided_total_ci_lower, avoided_total_ci_upper, benchmark_relative_change, "
        "is_benchmark_within_ci from pub_utilisation_savings_headline "
        "order by icb_code, measure_code",
    )
    out = []
    order = {m: i for i, m in enumerate(MEASURE_ORDER)}
    for icb in sorted({r["icb_code"] for r in savings}):
        own = sorted(
            [r for r in savings if r["icb_code"] == icb],
            key=lambda r: order.get(r["measure_code"], len(order)),
        )
        chart = interval_chart(
            "savings",
            uid_for("savings", icb),
            f"ICB {icb}: change after referral relative to the referred people's level before",
            [
                Interval(
                    html.unescape(MEASURE_LABELS.get(r["measure_code"], r["measure_code"])),
                    r["relative_change"],
                    r["relative_change_ci_lower"],
                    r["relative_change_ci_upper"],
                    r["benchmark_relative_change"],
                )
                for r in own
            ],
            x_label="relative change (difference-in-differences / level before), 95% CI",
            reference=0.0,
            reference_label="no change",
            percent=True,
            benchmark_label="published benchmark",
        )
        out.append(
            files.figure(
                chart,
                PUBLIC,
                f"ICB {icb}: savings against the benchmarks",
                icb,
                "Improvement: lower (negative = fewer contacts, less cost and carbon than the "
                "matched comparison's change predicts). Source: pub_utilisation_savings_headline; "
                "benchmarks and their sources in its benchmark_source column.",
            )
        )
        out.append(savings_table(icb, own))
    return out


def pathway_section(files: _Files) -> list[str]:
    """Days to first contact and the share contacted within 14 days by quarter, with their 95 %
    intervals, and the needs people are referred with (pub_pathway_quarterly,
    pub_pathway_categories)."""
    rows = files.rows(
        PUBLIC,
        "pub_pathway_quarterly",
        "select org_code, quarter_start, median_days_to_first_contact, "
        "median_days_to_first_contact_ci_lower, median_days_to_first_contact_ci_upper, "
        "pct_contacted_within_14_days, pct_contacted_within_14_days_ci_lower, "
        "pct_contacted_within_14_days_ci_upper from pub_pathway_quarterly "
        "where org_level = 'icb' and is_complete order by org_code, quarter_start",
    )
    out = []
    for icb in sorted({r["org_code"] for r in rows}):
        own = [r for r in rows if r["org_code"] == icb]
        dates = [r["quarter_start"] for r in own]

        def col(name: str, scale: float = 1.0, own: list[dict] = own) -> list[float | None]:
            return [None if r[name] is None else float(r[name]) / scale for r in own]

        chart = band_chart(
            "pathway",
            uid_for("pathway", "days", icb),
            f"ICB {icb}: median days from referral to first contact",
            [
                (
                    "median days",
                    dates,
                    col("median_days_to_first_contact"),
                    col("median_days_to_first_contact_ci_lower"),
                    col("median_days_to_first_contact_ci_upper"),
                    NHS["blue"],
                )
            ],
            y_label="days (median)",
            from_zero=True,
        )
        out.append(
            files.figure(
                chart,
                PUBLIC,
                f"ICB {icb}: time to first contact by quarter",
                icb,
                "Improvement: lower. Median over contacted referrals with its order-statistic "
                "95 % interval (pub_pathway_quarterly).",
            )
        )
        chart = band_chart(
            "pathway",
            uid_for("pathway", "14d", icb),
            f"ICB {icb}: contacted within 14 days of referral",
            [
                (
                    "contacted within 14 days",
                    dates,
                    col("pct_contacted_within_14_days", 100.0),
                    col("pct_contacted_within_14_days_ci_lower", 100.0),
                    col("pct_contacted_within_14_days_ci_upper", 100.0),
                    NHS["blue"],
                )
            ],
            y_label="share of referrals",
            percent=True,
            from_zero=True,
        )
        out.append(
            files.figure(
                chart,
                PUBLIC,
                f"ICB {icb}: contacted within 14 days by quarter",
                icb,
                "Improvement: higher. Of referrals whose 14 days lie within the data, with a "
                "Wilson 95 % interval (pub_pathway_quarterly).",
            )
        )
    needs = files.rows(
        PUBLIC,
        "pub_pathway_categories",
        "select org_code, quarter_start, category, share_of_referrals from pub_pathway_categories "
        "where org_level = 'icb' and category_type = 'need' and is_complete "
        "order by org_code, quarter_start, category",
    )
    for icb in sorted({r["org_code"] for r in needs}):
        own = [r for r in needs if r["org_code"] == icb]
        quarters = sorted({r["quarter_start"] for r in own})
        shares = {
            c: [
                next(
                    (
                        r["share_of_referrals"]
                        for r in own
                        if r["category"] == c and r["quarter_start"] == q
                    ),
                    None,
                )
                for q in quarters
            ]
            for c in sorted({r["category"] for r in own})
        }
        chart = line_chart(
            "pathway",
            uid_for("pathway", "needs", icb),
            f"ICB {icb}: needs people are referred with",
            [
                LineSeries(str(c), quarters, values, PALETTE[k % len(PALETTE)])
                for k, (c, values) in enumerate(shares.items())
            ],
            y_label="referrals with the need",
            percent=True,
        )
        out.append(
            files.figure(
                chart,
                PUBLIC,
                f"ICB {icb}: needs by quarter",
                icb,
                "Share of the quarter's referrals recording each need (a referral can record "
                "several, so the shares can add up to more than 100 %). Source: "
                "pub_pathway_categories (category_type = need).",
            )
        )
    return out


PALETTE = ["#005eb8", "#ed8b00", "#00a499", "#ae2573", "#78be20", "#330072", "#41b6e6", "#8a1538"]
KINDS = (
    "spc",
    "spc_icb",
    "qi_effects",
    "trajectory",
    "coverage",
    "equity",
    "equity_rolling",
    "wellbeing",
    "savings",
    "pathway",
)


def build_report(
    published_file: Path,
    out_file: Path,
    internal_file: Path | None = None,
    workers: int | None = None,
) -> dict[str, int]:
    """Write the report; returns how many charts of each kind it drew. ``internal_file``
    defaults to the internal audience's file beside the public one (used when it exists).

    matplotlib takes about a quarter of a second per chart (an ICB's page has about 80), so the
    sections are drawn in ``workers`` processes (default: one per core this process may run
    on, at most one per section), each reading the files for itself; the page is the same
    as one process draws."""
    internal_file = internal_file or published_file.parent / INTERNAL_FILE
    files = _Files(published_file, internal_file)
    try:
        run = files.rows(PUBLIC, "_publication", "select run_id, published_at from _publication")[0]
        internal = INTERNAL in files.cons
    finally:
        files.close()
    todo = [i for i, section in enumerate(SECTIONS) if internal or not section.internal_only]
    jobs = [(i, published_file, internal_file) for i in todo]
    workers = min(len(jobs), workers or _usable_cores())
    if workers > 1:
        # spawn, not fork: this process holds DuckDB's and Dagster's threads, and a forked
        # child could inherit one of their locks held.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            drawn_sections = list(pool.map(_draw_section, jobs))
    else:
        drawn_sections = [_draw_section(job) for job in jobs]
    drawn = dict.fromkeys(KINDS, 0)
    for _, counts in drawn_sections:
        for kind, n in counts.items():
            drawn[kind] += n
    sections = [mdc_key()] + [section for section, _ in drawn_sections]

    out_file.parent.mkdir(parents=True, exist_ok=True)
    page = PAGE.format(
        run_id=html.escape(str(run["run_id"])),
        published_at=html.escape(str(run["published_at"])[:19]),
        audience_banner=INTERNAL_BANNER if internal else PUBLIC_BANNER,
        sections="\n".join(s for s in sections if s),
    )
    tmp = out_file.with_name(f".{out_file.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out_file)  # a reader of the report never sees half a page either
    return drawn


def _usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, on Linux); all of them elsewhere."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def _draw_section(job: tuple[int, Path, Path]) -> tuple[str, dict[str, int]]:
    """One section of the page (SECTIONS[index]) and the charts it drew, read from the files
    by this process (a report worker) itself."""
    index, published_file, internal_file = job
    files = _Files(published_file, internal_file)
    try:
        section = SECTIONS[index]
        return section_html(section.title, section.charts(files), section.note), files.drawn
    finally:
        files.close()


@dataclass(frozen=True)
class Section:
    title: str
    charts: Callable[[_Files], list[str]]
    note: str
    internal_only: bool = False  # drawn only where the internal file exists


# The page, in order (after the Making Data Count key).
SECTIONS = (
    Section("SPC: referral episodes", spc_section, SPC_NOTE),
    Section(
        "Quality improvement: effect of each intervention",
        qi_effects_section,
        QI_NOTE,
        internal_only=True,
    ),
    Section("Workforce trajectory", trajectory_section, TRAJECTORY_NOTE),
    Section("Coverage against the 0.8-1.2 % band", coverage_section, COVERAGE_NOTE),
    Section("Equity: who is referred", equity_section, EQUITY_NOTE),
    Section("Wellbeing: do people feel better?", wellbeing_section, WELLBEING_NOTE),
    Section("Savings against the benchmarks", savings_section, SAVINGS_NOTE),
    Section("The referral pathway", pathway_section, PATHWAY_NOTE),
)

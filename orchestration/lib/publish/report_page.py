"""The report's page furniture: the HTML around the charts (the page, its banners, each
section's note, a chart's card), the Making Data Count key with each measure's improvement
direction, and the savings headline table. What goes on the page is ``report``."""

from __future__ import annotations

import html

from orchestration.lib.publish.charts import MDC, Chart, icon

PUBLIC, INTERNAL = "public", "internal"
AUDIENCE_NOTE = {
    PUBLIC: "public: disclosure-controlled (counts 1-7 suppressed, others rounded to 5)",
    INTERNAL: "internal: exact counts, not for publication",
}


# Improvement direction per measure, with where it is defined: the page prints this table.
IMPROVEMENT = {
    "referrals": (
        "increase",
        "More referral episodes: the QI interventions (seed qi_interventions, clinician "
        "training) aim to raise referrals, and the 0.8-1.2 % coverage band sets a floor. "
        "Defined here (orchestration/lib/publish/report_page.py IMPROVEMENT).",
    ),
    "splw_headcount": (
        "increase",
        "Towards the ICB's share of the national line (DES rule and ambition, "
        "pub_workforce_trajectory.icb_target_posts).",
    ),
    "coverage_rate": ("within band", "0.8-1.2 % of the registered population in 12 months."),
    "wellbeing": (
        "per measure",
        "higher_is_better in pub_wellbeing_outcomes (ONS4 anxiety and UCLA-3 loneliness: lower "
        "is better) and seed meaningful_change (direction and threshold per measure).",
    ),
    "utilisation": (
        "decrease",
        "Fewer contacts, less cost and carbon than the matched comparison (benchmarks in "
        "pub_utilisation_savings_headline are reductions).",
    ),
    "days_to_first_contact": ("decrease", "Seen sooner (pathway marts)."),
    "contacted_within_14_days": ("increase", "More people contacted within 14 days."),
}


def figure_card(chart: Chart, audience: str, caption: str, org: str = "", note: str = "") -> str:
    attrs = {"chart": chart.kind, "audience": audience, "org": org, **chart.attrs}
    data = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in attrs.items())
    icons = f'<div class="icons">{chart.icons}</div>' if chart.icons else ""
    note_html = f'<p class="chart-note">{note}</p>' if note else ""
    return (
        f'<figure class="chart-card" {data}><figcaption>{html.escape(caption)} '
        f'<span class="audience {audience}">{AUDIENCE_NOTE[audience]}</span></figcaption>'
        f'<div class="chart-row">{chart.svg}{icons}</div>{note_html}</figure>'
    )


def empty_card(caption: str, audience: str, why: str) -> str:
    return (
        f'<figure class="chart-card empty" data-audience="{audience}"><figcaption>'
        f'{html.escape(caption)} <span class="audience {audience}">{AUDIENCE_NOTE[audience]}'
        f'</span></figcaption><p class="empty">{why}</p></figure>'
    )


def mdc_key() -> str:
    """The Making Data Count key: point colours, lines, icons, and the improvement direction of
    every measure with where it is defined."""
    swatch = "".join(
        f'<li><svg class="swatch" width="14" height="14"><circle cx="7" cy="7" r="5" '
        f'fill="{MDC[c]}"/></svg> {label}</li>'
        for c, label in (
            ("improvement", "special cause: improvement"),
            ("concern", "special cause: concern"),
            ("common_cause", "common cause"),
        )
    )
    icons = "".join(
        f"<li>{icon(kind, value)} <span>{html.escape(text)}</span></li>"
        for kind, value, text in (
            ("variation", "common_cause", "common cause: no significant change"),
            ("variation", "improvement_high", "improvement: special cause, high"),
            ("variation", "improvement_low", "improvement: special cause, low"),
            ("variation", "concern_high", "concern: special cause, high"),
            ("variation", "concern_low", "concern: special cause, low"),
            ("assurance", "pass", "assurance: consistently passes the target"),
            ("assurance", "fail", "assurance: consistently fails the target"),
            ("assurance", "hit_and_miss", "assurance: hits and misses the target"),
        )
    )
    directions = "".join(
        f"<tr><td>{html.escape(m.replace('_', ' '))}</td><td>{html.escape(d)}</td>"
        f"<td>{html.escape(where)}</td></tr>"
        for m, (d, where) in IMPROVEMENT.items()
    )
    return (
        '<section class="mdc-key" id="key"><h2>How to read the charts (Making Data Count)</h2>'
        f'<div class="key-row"><ul class="legend">{swatch}'
        f'<li><span class="line" style="border-color:{MDC["mean"]}"></span> mean</li>'
        f'<li><span class="line dashed" style="border-color:{MDC["limits"]}"></span> process '
        "limits (mean &plusmn; 2.66 &times; mean moving range)</li>"
        f'<li><span class="line dashed" style="border-color:{MDC["target"]}"></span> target</li>'
        f'</ul><ul class="legend icons-key">{icons}</ul></div>'
        '<table class="directions"><tr><th>measure</th><th>improvement</th><th>where '
        f"defined</th></tr>{directions}</table></section>"
    )


def section_html(title: str, charts: list[str], note: str) -> str:
    body = "".join(charts) or '<p class="empty">Nothing published for this section.</p>'
    return f'<section><h2>{html.escape(title)}</h2><p class="note">{note}</p>{body}</section>'


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


def number(v: float | None, unit: str, total: bool = False) -> str:
    if v is None:
        return "&ndash;"  # suppressed or not estimable: a gap, never a zero
    # totals over all referred people in whole units; per-person figures to 2 places
    text = f"{abs(v):,.0f}" if total or (unit == "gbp" and abs(v) >= 100) else f"{abs(v):,.2f}"
    sign = "-" if v < 0 and text.strip("0.,") else ""
    return f"{sign}&pound;{text}" if unit == "gbp" else f"{sign}{text}"


def percent(v: float | None) -> str:
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
            f"<td>{number(r['referred_pre_mean'], unit)}</td>"
            f"<td>{number(r['comparison_pre_mean'], unit)}</td>"
            f"<td>{number(r['did_per_person'], unit)} ({number(r['did_ci_lower'], unit)} to "
            f"{number(r['did_ci_upper'], unit)})</td>"
            f"<td>{percent(r['relative_change'])} ({percent(r['relative_change_ci_lower'])} to "
            f"{percent(r['relative_change_ci_upper'])})</td>"
            f"<td>{'' if bench is None else percent(bench)} {verdict}</td>"
            f"<td>{number(r['avoided_total'], unit, True)} ({number(r['avoided_total_ci_lower'], unit, True)}"
            f" to {number(r['avoided_total_ci_upper'], unit, True)})</td>"
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


SPC_NOTE = (
    "XmR charts (NHS Making Data Count): mean and process limits (mean &plusmn; 2.66 &times; "
    "mean moving range) recalculated at each unit's own quality-improvement interventions "
    "(seed qi_interventions). Points: blue = special cause improvement, orange = special cause "
    "concern, grey = common cause; a hollow point is a month the data does not yet cover in "
    "full. Icons beside each chart: variation (latest point) and assurance against the target. "
    "Internal charts are weekly and exact (ICB, every PCN, practices with a QI intervention); "
    "the public ICB chart is monthly under disclosure control, and its gaps are suppressed "
    "months. Rules are evaluated on exact counts in the warehouse."
)
QI_NOTE = "Each practice's or PCN's own intervention, from the internal file (exact counts)."
TRAJECTORY_NOTE = (
    "Social prescribing link workers (headcount and FTE) against the ICB's population share of "
    "the national line from 3,000 posts (Sept 2022) to 9,000 (March 2037). Staff counts are "
    "published exactly (they are not patients)."
)
COVERAGE_NOTE = (
    "Referral episodes in the 12 months to each month over the registered population; the "
    "green band is the former IIF target of 0.8-1.2 %. Complete 12-month windows only."
)
EQUITY_NOTE = (
    "People referred in the latest 12 months per 1,000 people in each group, with 95 % Wilson "
    "intervals. Groups with fewer than 8 people referred are suppressed."
)
WELLBEING_NOTE = (
    "Change in each wellbeing measure between baseline and follow-up for people with both "
    "(SWEMWBS, ONS4, UCLA-3), in each measure's better direction."
)
PATHWAY_NOTE = (
    "How fast people are contacted after referral and what they are referred with (Social "
    "Prescribing Information Standard minimum dataset), by quarter."
)
SAVINGS_NOTE = (
    "Difference-in-differences over every referred person of the ICB with a matched comparison "
    "set: negative = fewer contacts, less money, less carbon than the comparison group's change "
    "would predict. Relative change = DiD / the referred people's own level before referral, "
    "beside the published claims (up to 40 % fewer GP appointments, 27 % lower secondary-care "
    "cost). Secondary care = A&amp;E + non-elective admissions + outpatients; unit costs and "
    "their price years are in the unit_costs seed (docs/methods.md)."
)
INTERNAL_BANNER = (
    '<p class="banner internal">Contains <strong>internal</strong> charts (exact counts from '
    "<code>data/published/internal/marts.duckdb</code>): for the ICB's own analysts and QI "
    "leads, <strong>not for publication</strong>. Charts marked public read the "
    "disclosure-controlled file (counts 1-7 suppressed, others rounded to 5).</p>"
)
PUBLIC_BANNER = (
    '<p class="banner public">Built from the public file alone (counts 1-7 suppressed, others '
    "rounded to 5): small units' SPC charts may be mostly gaps.</p>"
)
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Social prescribing: nightly report</title>
<style>
body {{ font-family: Arial, "Liberation Sans", Helvetica, sans-serif; margin: 24px;
  color: #231f20; max-width: 1580px; }}
h1 {{ color: #005eb8; }} h2 {{ color: #003087; margin-top: 28px; }}
section {{ margin-bottom: 32px; }}
.chart-card {{ display: inline-block; vertical-align: top; margin: 8px; border: 1px solid #d8dde0;
  padding: 8px 10px; background: #fff; max-width: 730px; }}
.chart-card figcaption {{ font-size: 13px; font-weight: bold; margin-bottom: 4px; }}
.chart-row {{ display: flex; align-items: flex-start; gap: 6px; }}
.chart-row svg.chart {{ max-width: 640px; height: auto; }}
.icons {{ display: flex; flex-direction: column; gap: 6px; padding-top: 20px; }}
.audience {{ font-weight: normal; font-size: 11px; padding: 1px 6px; border-radius: 8px;
  margin-left: 6px; white-space: nowrap; }}
.audience.internal {{ background: #fde8d6; color: #8a3a00; }}
.audience.public {{ background: #e3eef9; color: #003087; }}
.banner {{ padding: 8px 12px; border-left: 6px solid; max-width: 1000px; }}
.banner.internal {{ border-color: #e46c0a; background: #fff4ec; }}
.banner.public {{ border-color: #005eb8; background: #eef5fc; }}
.chart-note, .note {{ font-size: 12px; color: #425563; max-width: 800px; }}
.note {{ font-size: 13px; max-width: 1000px; }}
.empty {{ color: #768692; font-style: italic; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #e8edee; padding: 4px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
table.directions td, table.directions th {{ text-align: left; }}
.key-row {{ display: flex; gap: 40px; flex-wrap: wrap; }}
ul.legend {{ list-style: none; padding: 0; font-size: 13px; }}
ul.legend li {{ display: flex; align-items: center; gap: 8px; margin: 4px 0; }}
.icons-key {{ columns: 2; }}
.icons-key svg.mdc-icon {{ width: 32px; height: 32px; }}
.line {{ display: inline-block; width: 24px; border-top: 2px solid; }}
.line.dashed {{ border-top-style: dashed; }}
</style></head>
<body>
<h1>Social prescribing: nightly report</h1>
{audience_banner}
<p class="note">Publication <code>{run_id}</code> at {published_at} UTC. Charts drawn with
matplotlib; the page fetches nothing and works offline.</p>
{sections}
</body></html>
"""

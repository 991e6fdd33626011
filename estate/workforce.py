"""Workforce: the PCN individual-level census (NWRS), one file per period month dated its last
day (BOM + CRLF, as published). Staff keep their ids across censuses; posts see starters,
leavers and vacancy gaps."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from estate.common import Context, to_date

# (staff group, role, detailed role, posts per PCN)
OTHER_ROLES = [
    ("Other Direct Patient Care staff", "Pharmacists", "Pharmacist", 2),
    ("Other Direct Patient Care staff", "Care Coordinators", "Care Coordinator", 2),
    (
        "Other Direct Patient Care staff",
        "Health and Wellbeing Coaches",
        "Health and Wellbeing Coach",
        1,
    ),
    ("Other Direct Patient Care staff", "Physiotherapists", "Physiotherapist", 1),
    ("Directors", "Medical Clinical Director (GP)", "Clinical Director – Medical", 1),
]
SPLW = (
    "Other Direct Patient Care staff",
    "Social Prescribing Link Workers",
    "Social Prescribing Link Worker",
)
SPLW_MH = (
    "Other Direct Patient Care staff",
    "Social Prescribing Link Workers (Mental Health Practitioners)",
    "Social Prescribing Link Worker (Mental Health Practitioner - Adult)",
)
CONTRACTED = ("Other Direct Patient Care staff", "Physiotherapists", "Physiotherapist")
FTES = np.array([0.4, 0.5, 0.6, 0.8, 0.933333333, 1.0])


def write_workforce(ctx: Context) -> tuple[list[str], dict[str, Any]]:
    """Writes every census; returns the extract (census) dates and the manifest's
    ``workforce``."""
    orgs, rng = ctx.orgs, ctx.rng
    n_months = len(ctx.calendar.months)
    staff_id = 100000 + int(rng.integers(0, 50000))
    # rosters: (pcn, role tuple, id, fte, first month, last month)
    roster = []
    for pcn in range(len(orgs.pcn_code)):
        list_size = orgs.prac_size[orgs.prac_pcn == pcn].sum()
        posts = []
        if orgs.pcn_has_lw[pcn]:
            n_splw = max(1, int(round(list_size / 22000 * rng.uniform(0.8, 1.4))))
            posts += [SPLW_MH if rng.random() < 0.12 else SPLW for _ in range(n_splw)]
        for group, role, detailed, k in OTHER_ROLES:
            posts += [(group, role, detailed)] * k
        for post in posts:
            month = 0
            while month < n_months:
                stay = int(rng.geometric(0.015))
                fte = float(rng.choice(FTES)) if post[0] != "Directors" else 0.25
                roster.append(
                    (pcn, post, staff_id, fte, month, min(n_months - 1, month + stay - 1))
                )
                staff_id += 1 + int(rng.integers(0, 3))
                month += stay + int(rng.integers(1, 3))  # vacancy gap
    extract_dates = []
    latest: dict[str, dict[str, float]] = {}
    for mi in range(n_months):
        month_start = to_date(ctx.calendar.bounds[mi])
        census = to_date(ctx.calendar.bounds[mi + 1] - 1)
        extract_dates.append(census.isoformat())
        in_post = [r for r in roster if r[4] <= mi <= r[5]]
        in_post.sort(key=lambda r: (r[0], r[2]))
        # (data source, pcn, role tuple, fte, identifier)
        records = [("NWRS Staff", r[0], r[1], r[3], str(r[2])) for r in in_post]
        # contracted services: FTE only, no identifier
        for pcn in range(len(orgs.pcn_code)):
            if (pcn + mi) % 3 == 0:
                records.append(("NWRS contracted services", pcn, CONTRACTED, 0.330666667, ""))
        ctx.writer.csv(
            "workforce_pcn_individual",
            f"workforce/{census.isoformat()}/pcn_workforce_individual_level_"
            f"{month_start.strftime('%b').lower()}{month_start.year}.csv",
            _census_frame(ctx, census.year, census.month, records),
            crlf=True,
            bom=True,
        )
        if mi == n_months - 1:
            for pcn, post, _staff_id, fte, _first, _last in in_post:
                if post[1].startswith("Social Prescribing Link Workers"):
                    d = latest.setdefault(orgs.pcn_code[pcn], {"headcount": 0, "fte": 0.0})
                    d["headcount"] += 1
                    d["fte"] = round(d["fte"] + fte, 9)
    truth = {
        "latest_census_date": extract_dates[-1],
        "splw_roles": [SPLW[1], SPLW_MH[1]],
        "expected_splw_headcount": int(sum(v["headcount"] for v in latest.values())),
        "expected_splw_fte": round(sum(v["fte"] for v in latest.values()), 9),
        "by_pcn": latest,
        "pcns_without_link_worker": [orgs.pcn_code[i] for i in np.flatnonzero(~orgs.pcn_has_lw)],
    }
    return extract_dates, truth


def _census_frame(ctx: Context, year: int, month: int, records: list) -> pl.DataFrame:
    orgs = ctx.orgs
    return pl.DataFrame(
        {
            "Data_source": [r[0] for r in records],
            "CENSUS_YEAR": [year] * len(records),
            "CENSUS_MONTH": [month] * len(records),
            "PCN_CODE": [orgs.pcn_code[r[1]] for r in records],
            "PCN_NAME": [orgs.pcn_name[r[1]] for r in records],
            "SUB_ICB_CODE": [orgs.sub_code[orgs.pcn_sub[r[1]]] for r in records],
            "SUB_ICB_NAME": [orgs.sub_name[orgs.pcn_sub[r[1]]] for r in records],
            "ICB_CODE": [orgs.icb_code[orgs.sub_icb[orgs.pcn_sub[r[1]]]] for r in records],
            "ICB_NAME": [orgs.icb_short[orgs.sub_icb[orgs.pcn_sub[r[1]]]] for r in records],
            "COMM_REGION_CODE": orgs.region_code,
            "COMM_REGION_NAME": orgs.region_name,
            "STAFF_GROUP": [r[2][0] for r in records],
            "STAFF_ROLE": [r[2][1] for r in records],
            "DETAILED_STAFF_ROLE": [r[2][2] for r in records],
            "FTE": [f"{r[3]:.9f}".rstrip("0").rstrip(".") for r in records],
            "UNIQUE_IDENTIFIER": [r[4] for r in records],
        }
    ).with_columns(
        pl.when(pl.col("UNIQUE_IDENTIFIER") == "")
        .then(None)
        .otherwise(pl.col("UNIQUE_IDENTIFIER"))
        .alias("UNIQUE_IDENTIFIER")
    )

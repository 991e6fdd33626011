"""Estate tiers: how big, how long, which registration snapshot mode."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Quality-improvement interventions (clinician training), practice code -> training date, the
#: same in every tier: practices Z10001, Z10003 and Z10004 exist in every tier, sit in PCNs with a
#: link worker and are not the practice that moves PCN in tiny; the dates leave 3 months before
#: and 2 after inside the shortest period (national, 2023-09 to 2024-08). The dbt seed
#: dbt_project/seeds/qi_interventions.csv lists the same rows (tests/unit/test_estate.py checks).
QI_INTERVENTIONS: dict[str, dt.date] = {
    "Z10001": dt.date(2024, 1, 1),
    "Z10003": dt.date(2024, 3, 1),
    "Z10004": dt.date(2024, 5, 1),
}


@dataclass(frozen=True)
class Tier:
    name: str
    start: dt.date  # first day of the period (1st of a month)
    end: dt.date  # last day of the period (last day of a month)
    n_icbs: int
    n_subicbs: int  # in total, spread over ICBs
    n_pcns: int
    n_practices: int
    n_patients: int  # registered list size at the period start
    n_pcns_without_lw: int
    registrations: str  # "full" (snapshot every extract date) or "delta" (see README)
    defect_scale: int


TIERS: dict[str, Tier] = {
    "tiny": Tier(
        "tiny", dt.date(2023, 3, 1), dt.date(2025, 2, 28), 1, 2, 3, 6, 18_000, 1, "full", 1
    ),
    "demo": Tier(
        "demo", dt.date(2023, 3, 1), dt.date(2026, 2, 28), 1, 2, 6, 30, 200_000, 1, "full", 2
    ),
    "icb": Tier(
        "icb", dt.date(2021, 11, 1), dt.date(2026, 10, 31), 1, 3, 30, 150, 1_500_000, 2, "delta", 3
    ),
    # Time-boxed: one year around the QI date, several ICBs.
    "national": Tier(
        "national",
        dt.date(2023, 9, 1),
        dt.date(2024, 8, 31),
        6,
        18,
        180,
        900,
        9_000_000,
        6,
        "delta",
        4,
    ),
}

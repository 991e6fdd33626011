"""Estate tiers: how big, how long, which registration snapshot mode."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Quality-improvement (clinician training) date, the same for every tier.
QI_DATE = dt.date(2024, 3, 1)


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

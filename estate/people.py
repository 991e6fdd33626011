"""Registered people, their utilisation rates and social-prescribing referral dates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from estate.orgs import Orgs
from estate.tiers import Tier

DAY_YEAR = 365.25
BIG = np.int32(2**31 - 1)

# England-like age pyramid by 5-year band (0_4 … 95+).
AGE_P = np.array(
    [
        5.5,
        6.0,
        6.0,
        5.7,
        6.2,
        6.8,
        7.0,
        6.8,
        6.4,
        6.4,
        6.9,
        6.7,
        5.9,
        5.0,
        4.8,
        3.6,
        2.4,
        1.4,
        0.6,
        0.2,
    ]
)
AGE_P = AGE_P / AGE_P.sum()
SEX_LABELS = ("M", "F", "I", "U")
SEX_P = np.array([0.495, 0.499, 0.003, 0.003])
SEX_P = SEX_P / SEX_P.sum()
# NHS 2001 ethnic categories: (code letter, description)
ETHNICITY = [
    ("A", "White - British"),
    ("B", "White - Irish"),
    ("C", "White - Any other White background"),
    ("D", "Mixed - White and Black Caribbean"),
    ("E", "Mixed - White and Black African"),
    ("F", "Mixed - White and Asian"),
    ("G", "Mixed - Any other mixed background"),
    ("H", "Asian or Asian British - Indian"),
    ("J", "Asian or Asian British - Pakistani"),
    ("K", "Asian or Asian British - Bangladeshi"),
    ("L", "Asian or Asian British - Any other Asian background"),
    ("M", "Black or Black British - Caribbean"),
    ("N", "Black or Black British - African"),
    ("P", "Black or Black British - Any other Black background"),
    ("R", "Other Ethnic Groups - Chinese"),
    ("S", "Other Ethnic Groups - Any other ethnic group"),
    ("Z", "Not stated"),
]
ETH_P = np.array(
    [
        0.70,
        0.01,
        0.06,
        0.008,
        0.005,
        0.007,
        0.006,
        0.03,
        0.02,
        0.01,
        0.015,
        0.01,
        0.02,
        0.005,
        0.007,
        0.012,
        0.035,
    ]
)
ETH_P = ETH_P / ETH_P.sum()

GP_AGE = np.array(
    [
        6.0,
        3.0,
        2.5,
        3.0,
        3.8,
        4.2,
        4.4,
        4.4,
        4.5,
        4.7,
        5.0,
        5.5,
        6.2,
        7.0,
        8.0,
        9.5,
        11,
        12,
        12.5,
        12.5,
    ]
)
AE_AGE = np.array(
    [
        0.45,
        0.25,
        0.22,
        0.35,
        0.45,
        0.38,
        0.33,
        0.3,
        0.28,
        0.27,
        0.27,
        0.28,
        0.3,
        0.33,
        0.4,
        0.5,
        0.65,
        0.8,
        0.9,
        0.9,
    ]
)
NE_AGE = np.array(
    [
        0.06,
        0.02,
        0.02,
        0.04,
        0.05,
        0.05,
        0.05,
        0.05,
        0.05,
        0.06,
        0.07,
        0.08,
        0.1,
        0.12,
        0.16,
        0.22,
        0.3,
        0.4,
        0.5,
        0.5,
    ]
)
EL_AGE = np.array(
    [
        0.03,
        0.02,
        0.02,
        0.03,
        0.04,
        0.05,
        0.06,
        0.07,
        0.08,
        0.1,
        0.12,
        0.15,
        0.18,
        0.22,
        0.26,
        0.28,
        0.27,
        0.22,
        0.15,
        0.1,
    ]
)
OP_AGE = np.array(
    [
        0.8,
        0.5,
        0.5,
        0.6,
        0.8,
        1.0,
        1.1,
        1.2,
        1.3,
        1.5,
        1.7,
        2.0,
        2.3,
        2.6,
        3.0,
        3.3,
        3.4,
        3.2,
        2.8,
        2.4,
    ]
)

FRAILTY_SHAPE = 2.0
REFERRAL_FRAILTY_POWER = 1.5
SEX_REFERRAL_MULT = np.array([0.6, 1.0, 0.8, 0.8])  # M, F, I, U
# Referral rate multiplier at a QI (clinician training) practice from its training date.
STEP_MULT = 2.0
ANNUAL_COVERAGE = 0.01
CODED_ONLY_SHARE = 0.04
WINDOW_DAYS = 182


@dataclass
class People:
    n: int
    prac: np.ndarray  # int32
    nhs: np.ndarray  # int64
    birth: np.ndarray  # int32 day (1st of birth month)
    sex: np.ndarray  # int8 index into SEX_LABELS
    eth: np.ndarray  # int8 index into ETHNICITY
    lsoa: np.ndarray  # int32
    reg_start: np.ndarray  # int32 day
    reg_end: np.ndarray  # int32 day (deregistered date) or BIG
    frailty: np.ndarray
    rate_gp: np.ndarray
    rate_ae: np.ndarray
    rate_ne: np.ndarray
    rate_el: np.ndarray
    rate_op: np.ndarray
    ref_day: np.ndarray  # int32, -1 = never referred
    ref_kind: np.ndarray  # 0 none, 1 case-management referral, 2 GP-coded only


def _month_first(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
    return d.astype(np.int64).astype(np.int32)


def build_people(
    rng: np.random.Generator, tier: Tier, orgs: Orgs, start: int, end_excl: int, nhs_prefix: str
) -> People:
    from estate.nhs_number import generate_nhs_numbers

    years = (end_excl - start) / DAY_YEAR
    n0 = int(orgs.prac_size.sum())
    nj = int(round(n0 * 0.06 * years))
    n = n0 + nj
    prac = np.concatenate(
        [
            np.repeat(np.arange(len(orgs.prac_size)), orgs.prac_size),
            rng.choice(len(orgs.prac_size), nj, p=orgs.prac_size / n0),
        ]
    ).astype(np.int32)
    # registration start
    reg_start = np.empty(n, dtype=np.int32)
    band = rng.choice(20, n, p=AGE_P)
    age_days = (band * 5 + rng.random(n) * np.where(band == 19, 10, 5)) * DAY_YEAR
    reg_start[n0:] = start + (rng.random(nj) * (end_excl - start)).astype(np.int32)
    newborn = np.zeros(n, dtype=bool)
    newborn[n0:] = rng.random(nj) < 0.3
    age_days[newborn] = rng.random(newborn.sum()) * 60
    ref_point = np.where(np.arange(n) < n0, start, reg_start)
    birth = _month_first((ref_point - age_days).astype(np.int64))
    since = np.minimum(rng.exponential(8 * DAY_YEAR, n0), age_days[:n0])
    reg_start[:n0] = np.maximum(start - 1 - since.astype(np.int32), birth[:n0])
    # deregistrations (moves and deaths)
    age_start = np.maximum((start - birth) / DAY_YEAR, 0)
    hazard = 0.045 + 0.06 * (age_start >= 80)
    leave = np.maximum(reg_start, start) + (rng.exponential(1.0, n) / hazard * DAY_YEAR).astype(
        np.int64
    )
    reg_end = np.where(leave < end_excl, leave, BIG).astype(np.int32)
    reg_end = np.where(reg_end <= reg_start, reg_start + 1, reg_end).astype(np.int32)

    sex = rng.choice(4, n, p=SEX_P).astype(np.int8)
    eth = rng.choice(len(ETHNICITY), n, p=ETH_P).astype(np.int8)
    lsoa = np.empty(n, dtype=np.int32)
    for p in range(len(orgs.prac_size)):  # per practice (few hundred at most)
        m = prac == p
        lsoa[m] = rng.choice(orgs.prac_lsoa_p.shape[1], int(m.sum()), p=orgs.prac_lsoa_p[p])
    lsoa_dep = 1.0 - orgs.lsoa_rank[lsoa] / 32844.0
    dep_mult = 1.0 + 0.3 * (lsoa_dep - 0.5)
    abands = np.minimum((age_start // 5).astype(np.int64), 19)
    frailty = rng.gamma(FRAILTY_SHAPE, 1.0 / FRAILTY_SHAPE, n)
    fem = (sex == 1) & (abands >= 3) & (abands <= 12)

    def norm(x: np.ndarray, mean: float) -> np.ndarray:
        return (x * mean / x[:n0].mean()).astype(np.float64)

    rate_gp = norm(GP_AGE[abands] * np.where(fem, 1.15, 1.0) * dep_mult * frailty, 5.0)
    f8 = frailty**0.8
    rate_ae = norm(AE_AGE[abands] * dep_mult * f8, 0.35)
    rate_ne = norm(NE_AGE[abands] * dep_mult * f8, 0.10)
    rate_el = norm(EL_AGE[abands] * f8, 0.12)
    rate_op = norm(OP_AGE[abands] * f8, 1.6)
    nhs = generate_nhs_numbers(rng, n, nhs_prefix)
    return People(
        n,
        prac,
        nhs,
        birth.astype(np.int32),
        sex,
        eth,
        lsoa,
        reg_start,
        reg_end,
        frailty,
        rate_gp,
        rate_ae,
        rate_ne,
        rate_el,
        rate_op,
        np.full(n, -1, dtype=np.int32),
        np.zeros(n, dtype=np.int8),
    )


def draw_referrals(
    rng: np.random.Generator,
    ppl: People,
    orgs: Orgs,
    month_starts: list[int],
    end_excl: int,
    step_days: np.ndarray,
    step_mult: float,
) -> dict:
    """Monthly referral hazard; fills ppl.ref_day / ppl.ref_kind. Returns exposure stats.
    ``step_days[i]`` is the QI date (days since epoch) of ``orgs.step_practices[i]``: from the
    month it starts, that practice's hazard is multiplied by ``step_mult``."""
    lw = orgs.pcn_has_lw[orgs.prac_pcn][ppl.prac]  # no-LW PCN membership is stable
    base_w = ppl.frailty**REFERRAL_FRAILTY_POWER * SEX_REFERRAL_MULT[ppl.sex]
    # Each person's practice's QI day (never for a practice without one).
    prac_step_day = np.full(len(orgs.prac_code), np.iinfo(np.int64).max, dtype=np.int64)
    prac_step_day[orgs.step_practices] = step_days
    person_step_day = prac_step_day[ppl.prac]
    bounds = list(month_starts) + [end_excl]
    person_months = np.zeros(4)
    for i, ms in enumerate(month_starts):
        me = bounds[i + 1]
        adult = (ms - ppl.birth) >= 18 * DAY_YEAR
        reg_now = (ppl.reg_start <= ms) & (ppl.reg_end >= me)
        person_months += np.bincount(ppl.sex[reg_now & lw & adult], minlength=4)
        elig = (
            adult
            & lw
            & (ppl.ref_kind == 0)
            & (ppl.reg_start <= ms - WINDOW_DAYS)
            & (ppl.reg_end >= me + WINDOW_DAYS)
        )
        listed = int(((ppl.reg_start <= ms) & (ppl.reg_end > ms) & lw).sum())
        target = ANNUAL_COVERAGE / 12 * listed
        idx = np.flatnonzero(elig)
        w = base_w[idx]
        p = target * w / w.sum()
        p = p * np.where(person_step_day[idx] <= ms, step_mult, 1.0)
        p_all = np.minimum(p * (1 + CODED_ONLY_SHARE), 0.5)
        hit = idx[rng.random(idx.size) < p_all]
        ppl.ref_day[hit] = ms + (rng.random(hit.size) * (me - ms)).astype(np.int32)
        coded_only = rng.random(hit.size) < CODED_ONLY_SHARE / (1 + CODED_ONLY_SHARE)
        ppl.ref_kind[hit] = np.where(coded_only, 2, 1)
    return {"adult_person_months_at_lw_practices": person_months}

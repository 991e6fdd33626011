"""A month's registered time per person, split at the planted post-referral window, and the
Poisson event days drawn over it (GP appointments and acute activity alike)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from estate.people import WINDOW_DAYS, People

# The planted utilisation effect: rate multipliers inside the WINDOW_DAYS after a referral
# (non-elective admissions and outpatients are unchanged, multiplier 1.0).
GP_MULT = 0.75
AE_MULT = 0.80


@dataclass(frozen=True)
class Exposure:
    """People registered for some of one month (``people``, indices into People) and two
    half-open day ranges each: ``window_*`` the part inside their post-referral window, and
    ``outside_*`` the (one, contiguous) rest of their registered days. A range is empty when its
    start equals its end."""

    people: np.ndarray
    outside_start: np.ndarray
    outside_end: np.ndarray
    window_start: np.ndarray
    window_end: np.ndarray


def month_exposure(people: People, month_start: int, month_end: int) -> Exposure:
    active = np.flatnonzero((people.reg_start < month_end) & (people.reg_end > month_start))
    registered_from = np.maximum(people.reg_start[active], month_start).astype(np.int64)
    registered_to = np.minimum(people.reg_end[active], month_end).astype(np.int64)
    referral = people.ref_day[active].astype(np.int64)
    referred = referral >= 0
    window_start = np.where(
        referred, np.clip(referral, registered_from, registered_to), registered_to
    )
    window_end = np.where(
        referred, np.clip(referral + WINDOW_DAYS, registered_from, registered_to), registered_to
    )
    window_later = window_start > registered_from
    return Exposure(
        people=active,
        outside_start=np.where(window_later, registered_from, window_end),
        outside_end=np.where(window_later, window_start, registered_to),
        window_start=window_start,
        window_end=window_end,
    )


def draw_days(
    rng: np.random.Generator, rate: np.ndarray, window_mult: float, exposure: Exposure
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events at ``rate`` per year (one rate per exposed person) outside the window and
    at ``rate * window_mult`` inside it. Returns (index into exposure.people, day) per event."""
    e = exposure
    n_outside = rng.poisson(rate * (e.outside_end - e.outside_start) / 365.0)
    n_window = rng.poisson(rate * window_mult * (e.window_end - e.window_start) / 365.0)
    who = np.concatenate(
        [np.repeat(np.arange(rate.size), n_outside), np.repeat(np.arange(rate.size), n_window)]
    )
    first = np.concatenate(
        [np.repeat(e.outside_start, n_outside), np.repeat(e.window_start, n_window)]
    )
    length = np.concatenate(
        [
            np.repeat(e.outside_end - e.outside_start, n_outside),
            np.repeat(e.window_end - e.window_start, n_window),
        ]
    )
    days = first + (rng.random(first.size) * length).astype(np.int64)
    return who, days

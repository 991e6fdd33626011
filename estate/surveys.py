"""Surveys: the wellbeing responses the case-management model drew (one file a month), and the
clinician training survey at the QI practices (a pre and a post wave, one file each)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from estate import cms as cmsmod
from estate.common import Context, day, iso, qi_days, to_date, ymd
from estate.tiers import QI_INTERVENTIONS

LIKERT = [
    "Strongly disagree",
    "Disagree",
    "Neither agree nor disagree",
    "Agree",
    "Strongly agree",
]
# (code in the manifest, statement)
CLINICIAN_ITEMS = [
    ("knowledge_role", "I understand the role of a social prescribing link worker"),
    ("knowledge_referral", "I know how to refer a patient to the social prescribing service"),
    (
        "confidence_identify",
        "I am confident identifying patients who would benefit from social prescribing",
    ),
    ("confidence_discuss", "I am confident discussing social prescribing with patients"),
]
# Planted mean score (1-5) per item, per wave.
CLINICIAN_MEANS = {"Pre-training": [2.6, 2.4, 2.7, 2.8], "Post-training": [3.9, 3.8, 3.6, 3.7]}
# Free text with the characters that break careless decoding (é, £, ’, —).
BARRIERS = {
    "Pre-training": [
        "Not sure what the link worker can offer",
        "Don’t know how to refer on the system",
        "Patients can’t afford activities — even £5 a session adds up",
        "Time: 10-minute appointments",
        "",
        "A résumé of local services would help",
        "Never heard of the café group",
    ],
    "Post-training": [
        "No barriers",
        "",
        "Waiting list for the café group is too long",
        "Patients worry about £ costs",
        "Link worker’s diary is full",
        "",
    ],
}


def _blank_to_null(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        pl.when(pl.col(pl.String) == "").then(None).otherwise(pl.col(pl.String)).name.keep()
    )


def write_wellbeing(ctx: Context, cms: dict[str, Any]) -> list[str]:
    """One file per month of the responses submitted in it (header only when none); returns
    the extract dates."""
    survey = cms["survey"]
    n_responses = survey["ref"].size
    referral_ids = cms["rid"]
    nhs = ctx.nhs[cms["ref_idx"]] if referral_ids.size else np.array([], dtype=str)
    cols: dict[str, Any] = {
        "Response ID": [f"WB{i + 1:07d}" for i in range(n_responses)],
        "Submitted": (
            pl.Series(survey["response_day"], dtype=pl.Int32).cast(pl.Date).dt.strftime("%d/%m/%Y")
            + " "
            + pl.Series(survey["minute"] // 60).cast(pl.String).str.zfill(2)
            + ":"
            + pl.Series(survey["minute"] % 60).cast(pl.String).str.zfill(2)
        ),
        "Client reference": referral_ids[survey["ref"]] if n_responses else [],
        "NHS number": nhs[survey["ref"]] if n_responses else [],
        "Timepoint": np.where(survey["tp"] == 0, "Baseline", "Follow-up"),
    }
    for j, q in enumerate(cmsmod.SWEMWBS_Q):
        answer = (
            np.array(cmsmod.SWEMWBS_L)[survey["sw_items"][:, j] - 1]
            if n_responses
            else np.array([], str)
        )
        cols[q] = np.where(survey["incomplete"] & (survey["blank_item"] == j), "", answer)
    for code, q in cmsmod.ONS4_Q:
        cols[q] = survey["ons"][code].astype(str)
    for j, q in enumerate(cmsmod.UCLA_Q):
        cols[q] = (
            np.array(cmsmod.UCLA_L)[survey["u_items"][:, j] - 1]
            if n_responses
            else np.array([], str)
        )
    df = _blank_to_null(
        pl.DataFrame({k: pl.Series(k, v, dtype=pl.String) for k, v in cols.items()})
    )
    bounds = ctx.calendar.bounds
    month = np.searchsorted(np.array(bounds), survey["response_day"], side="right") - 1
    extract_dates = []
    for mi in range(len(ctx.calendar.months)):
        ext = bounds[mi + 1]
        extract_dates.append(iso(ext))
        ctx.writer.csv(
            "survey_wellbeing_responses",
            f"survey_wellbeing/{iso(ext)}/wellbeing_responses_{ymd(ext)}.csv",
            df.filter(pl.Series(month == mi)),
        )
    return extract_dates


def write_clinician_survey(ctx: Context) -> tuple[list[str], dict[str, Any]]:
    """Both waves at the trained (step-change) practices; returns the extract dates and the
    manifest's ``clinician_survey``."""
    orgs, rng = ctx.orgs, ctx.rng
    training_days = qi_days(orgs)
    realised: dict[str, dict[str, float]] = {}
    files = {}
    counter = 0
    # Each practice's waves sit around its own training date: pre in the 4 weeks before,
    # post 2-3 months after; one file per wave holds every practice's responses.
    for wave, tag, lo, hi in (
        ("Pre-training", "pre", -28, 0),
        ("Post-training", "post", 61, 92),
    ):
        n_per_practice = [max(8, int(orgs.prac_size[pi] // 600)) for pi in orgs.step_practices]
        practice = np.repeat(orgs.step_practices, n_per_practice)
        trained = np.repeat(training_days, n_per_practice)
        n = practice.size
        submitted = trained + rng.integers(lo, hi, n)
        order = np.argsort(submitted, kind="stable")
        practice, submitted = practice[order], submitted[order]
        last_day_excl = int(trained.max()) + hi
        minutes = rng.integers(8 * 60, 19 * 60, n)
        rows = {
            "Response ID": [f"CT{counter + i + 1:05d}" for i in range(n)],
            "Submitted": [
                f"{to_date(x).strftime('%d/%m/%Y')} {m // 60:02d}:{m % 60:02d}"
                for x, m in zip(submitted, minutes, strict=True)
            ],
            "Practice code": [orgs.prac_code[x] for x in practice],
            "Role": np.array(["GP", "Nurse", "Practice staff", "Pharmacist"])[
                rng.choice(4, n, p=[0.35, 0.25, 0.3, 0.1])
            ].tolist(),
            "Survey wave": [wave] * n,
        }
        counter += n
        realised[wave] = {}
        for (code, q), mu in zip(CLINICIAN_ITEMS, CLINICIAN_MEANS[wave], strict=True):
            scores = np.clip(np.round(rng.normal(mu, 0.9, n)), 1, 5).astype(int)
            realised[wave][code] = round(float(scores.mean()), 4)
            rows[q] = [LIKERT[v - 1] for v in scores]
        barriers = BARRIERS[wave]
        rows["What, if anything, stops you referring patients?"] = [
            barriers[i] for i in rng.integers(0, len(barriers), n)
        ]
        df = _blank_to_null(pl.DataFrame(rows))
        # The wave's file lands on the 1st of the month after its last possible response.
        last = to_date(last_day_excl - 1)
        ext = day(dt.date(last.year + (last.month == 12), last.month % 12 + 1, 1))
        rel = f"survey_clinician/{iso(ext)}/clinician_training_{tag}_{ymd(ext)}.csv"
        encoding = "cp1252" if tag == "pre" else "utf-8"
        ctx.writer.csv("survey_clinician_training", rel, df, encoding=encoding)
        files[tag] = rel
    extract_dates = sorted({f.split("/")[1] for f in files.values()})
    step_codes = [orgs.prac_code[x] for x in orgs.step_practices]
    truth = {
        "practices": step_codes,
        "training_dates": {c: QI_INTERVENTIONS[c].isoformat() for c in step_codes},
        "files": files,
        "cp1252_file": files["pre"],
        "planted_means": CLINICIAN_MEANS,
        "realised_means": realised,
        "realised_mean_increase": {
            k: round(realised["Post-training"][k] - realised["Pre-training"][k], 4)
            for k, _ in CLINICIAN_ITEMS
        },
    }
    return extract_dates, truth

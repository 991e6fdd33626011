"""Estate orchestration: build the organisations, people and case-management records, then
write each source family in turn and the manifest (the planted truth)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl
from tqdm import tqdm

from estate import cms as cmsmod
from estate.activity import write_activity
from estate.case_management import write_case_management
from estate.common import Calendar, Context, Writer, qi_days
from estate.defects import PATHWAY_DEFECTS, DefectPlan
from estate.nhs_number import prefix_for
from estate.orgs import build_orgs
from estate.people import STEP_MULT, build_people, draw_referrals
from estate.reference import write_reference
from estate.registrations import write_registrations
from estate.surveys import write_clinician_survey, write_wellbeing
from estate.tiers import TIERS, Tier
from estate.truth import planted_truth
from estate.workforce import write_workforce

T = TypeVar("T")

# The random stream of the Social Prescribing Information Standard's pathway records (needs and
# concerns, support offered): its own, keyed by this number and the seed.
PATHWAY_STREAM = 14


class Estate:
    """One estate: every family draws from one random stream in the order ``run`` gives, so
    the order of the stages (and of the draws inside each) is what makes a seed's files the
    same every time."""

    def __init__(self, tier: Tier, seed: int, out: Path, progress: bool = True) -> None:
        self.tier, self.seed, self.out = tier, seed, out
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.writer = Writer(out)
        self.progress = progress
        self.calendar = Calendar.of(tier)
        self.extract_dates: dict[str, list[str]] = {}

    def bar(self, items: Iterable[T], desc: str) -> Iterable[T]:
        return tqdm(
            items,
            desc=desc,
            file=sys.stderr,
            disable=not self.progress,
            leave=False,
            dynamic_ncols=True,
        )

    def build(self) -> None:
        """Organisations, people and their referrals, case-management records, defect plan."""
        tier, rng, calendar = self.tier, self.rng, self.calendar
        self.orgs = build_orgs(rng, tier, calendar.months)
        expected_people = int(self.orgs.prac_size.sum() * (1 + 0.06 * len(calendar.months) / 12))
        self.nhs_prefix = prefix_for(expected_people)
        self.people = build_people(
            rng, tier, self.orgs, calendar.start, calendar.end_excl, self.nhs_prefix
        )
        nhs = self.people.nhs.astype(str)
        self.referral_stats = draw_referrals(
            rng,
            self.people,
            self.orgs,
            calendar.months,
            calendar.end_excl,
            qi_days(self.orgs),
            STEP_MULT,
        )
        self.cms = cmsmod.build_cms(
            rng,
            self.people,
            self.orgs.prac_code,
            calendar.end_excl,
            nhs,
            # The standard's needs and support offered draw from a stream of their own, so
            # that adding them changed no other extract of a seed.
            pathway_rng=np.random.Generator(np.random.PCG64([PATHWAY_STREAM, self.seed])),
            bad_needs=PATHWAY_DEFECTS["bad_needs"] * tier.defect_scale,
            bad_support=PATHWAY_DEFECTS["bad_support"] * tier.defect_scale,
        )
        self.defects = DefectPlan(rng, tier.defect_scale, len(calendar.months), self.nhs_prefix)
        self.ctx = Context(
            tier=tier,
            rng=rng,
            writer=self.writer,
            calendar=calendar,
            orgs=self.orgs,
            people=self.people,
            nhs=nhs,
            nhs_series=pl.Series("nhs", nhs),
            progress=self.bar,
        )

    def activity(self) -> None:
        write_activity(self.ctx, self.defects, self.cms["sp_codes"])

    def registrations(self) -> None:
        dates = write_registrations(self.ctx)
        self.extract_dates["gp"] = dates
        self.extract_dates["acute"] = dates

    def reference(self) -> None:
        self.extract_dates["reference"], self.list_sizes = write_reference(self.ctx)

    def case_management(self) -> None:
        self.extract_dates["case_management"] = write_case_management(
            self.writer, self.out, self.cms, self.calendar.end_excl
        )

    def surveys(self) -> None:
        self.extract_dates["survey_wellbeing"] = write_wellbeing(self.ctx, self.cms)
        self.extract_dates["survey_clinician"], self.clinician_survey = write_clinician_survey(
            self.ctx
        )

    def workforce(self) -> None:
        self.extract_dates["workforce"], self.workforce_truth = write_workforce(self.ctx)

    def manifest(self) -> dict[str, Any]:
        return planted_truth(
            tier=self.tier,
            seed=self.seed,
            calendar=self.calendar,
            orgs=self.orgs,
            people=self.people,
            nhs_prefix=self.nhs_prefix,
            referral_stats=self.referral_stats,
            cms=self.cms,
            defect_plan=self.defects,
            extract_dates=self.extract_dates,
            list_sizes=self.list_sizes,
            row_counts=self.writer.rows,
            clinician_survey=self.clinician_survey,
            workforce=self.workforce_truth,
        )

    def run(self) -> dict[str, Any]:
        stages = [
            ("build", self.build),
            ("activity", self.activity),
            ("registrations", self.registrations),
            ("reference", self.reference),
            ("case_management", self.case_management),
            ("surveys", self.surveys),
            ("workforce", self.workforce),
        ]
        for _name, stage in self.bar(stages, "estate"):
            stage()
        manifest = self.manifest()
        path = self.writer.landing / "_manifest.json"
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return manifest


def generate(
    tier: str, seed: int, out: str | Path, force: bool = False, progress: bool = True
) -> dict:
    out = Path(out)
    landing, sources = out / "landing", out / "sources"
    if force:
        for d in (landing, sources):
            if d.exists():
                shutil.rmtree(d)
    elif landing.exists() and any(landing.iterdir()):
        raise FileExistsError(f"{landing} is not empty; use --force to overwrite")
    return Estate(TIERS[tier], seed, out, progress).run()

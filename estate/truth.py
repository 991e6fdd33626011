"""The planted truth: everything ``<out>/landing/_manifest.json`` says the warehouse should
recover (typed in ``estate.manifest``), computed from the rates and records actually drawn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from estate import cms as cmsmod
from estate.case_management import export_path
from estate.common import Calendar, iso
from estate.defects import DefectPlan
from estate.exposure import AE_MULT, GP_MULT
from estate.gp import P_STATUS, SP_CODES
from estate.orgs import Orgs
from estate.people import SEX_REFERRAL_MULT, STEP_MULT, WINDOW_DAYS, People
from estate.tiers import QI_INTERVENTIONS, Tier


def planted_truth(
    *,
    tier: Tier,
    seed: int,
    calendar: Calendar,
    orgs: Orgs,
    people: People,
    nhs_prefix: str,
    referral_stats: dict[str, Any],
    cms: dict[str, Any],
    defect_plan: DefectPlan,
    extract_dates: dict[str, list[str]],
    list_sizes: dict[str, list[int]],
    row_counts: dict[str, int],
    clinician_survey: dict[str, Any],
    workforce: dict[str, Any],
) -> dict:
    """The manifest (see README, "Model and planted truth")."""
    # Referrals whose whole pre and post windows lie inside the period.
    window_from = calendar.start + WINDOW_DAYS
    window_to_excl = calendar.end_excl - WINDOW_DAYS

    # Realised referral rate by sex, per adult person-month at link-worker practices.
    person_months = referral_stats["adult_person_months_at_lw_practices"]
    cms_referred = people.ref_kind == 1
    per_sex = np.bincount(people.sex[cms_referred], minlength=4)
    rate_male = per_sex[0] / person_months[0] * 12 if person_months[0] else 0
    rate_female = per_sex[1] / person_months[1] * 12 if person_months[1] else 0
    referral_month = (
        np.searchsorted(np.array(calendar.bounds), people.ref_day[cms_referred], side="right") - 1
    )
    step_codes = [orgs.prac_code[i] for i in orgs.step_practices]
    monthly = {}
    for pi in orgs.step_practices:
        at_practice = people.prac[cms_referred] == pi
        monthly[orgs.prac_code[pi]] = np.bincount(
            referral_month[at_practice], minlength=len(calendar.months)
        ).tolist()
    stats = cms["stats"]
    responses = _Responses(
        referral=stats["resp_ref"],
        timepoint=stats["resp_tp"],
        incomplete=cms["survey"]["incomplete"],
    )

    def did(kind_mask: np.ndarray) -> dict:
        return _expected_did(people, kind_mask, window_from, window_to_excl)

    def paired(values: np.ndarray, require_complete: bool) -> dict:
        return _paired_change(responses, values, require_complete)

    defects = defect_plan.manifest_entries(tier.defect_scale, export_path(calendar.end_excl))
    mover = orgs.mover
    return {
        "schema_version": 1,
        "tier": tier.name,
        "seed": seed,
        "period": {"start": tier.start.isoformat(), "end": tier.end.isoformat()},
        "generated_at": f"{iso(calendar.end_excl)}T00:00:00",
        "qi_interventions": {k: v.isoformat() for k, v in QI_INTERVENTIONS.items()},
        "nhs_number_prefix": nhs_prefix,
        "registrations_mode": tier.registrations,
        "extract_dates": extract_dates,
        "organisations": {
            "comm_region": orgs.region_code,
            "icbs": orgs.icb_code,
            "sub_icbs": orgs.sub_code,
            "pcns": [
                {
                    "code": orgs.pcn_code[i],
                    "name": orgs.pcn_name[i],
                    "sub_icb_code": orgs.sub_code[orgs.pcn_sub[i]],
                    "has_link_worker": bool(orgs.pcn_has_lw[i]),
                }
                for i in range(len(orgs.pcn_code))
            ],
            "practices": [
                {
                    "code": orgs.prac_code[i],
                    "name": orgs.prac_name[i],
                    "pcn_code": orgs.pcn_code[orgs.prac_pcn[i]],
                    "supplier": "EMIS" if orgs.prac_emis[i] else "TPP",
                    "list_size_start": int(list_sizes[iso(calendar.start)][i]),
                }
                for i in range(len(orgs.prac_code))
            ],
            "pcn_move": {
                "practice": orgs.prac_code[mover],
                "from_pcn": orgs.pcn_code[orgs.prac_pcn[mover]],
                "to_pcn": orgs.pcn_code[orgs.mover_to],
                "date": iso(orgs.move_day),
            },
        },
        "row_counts": dict(sorted(row_counts.items())),
        "referrals": {
            "cms_referrals": stats["n_cms"],
            "coded_only_referrals": stats["n_coded_only"],
            "cms_referrals_with_gp_referral_code": stats["n_coded_with_cms"],
            "gp_referral_code": SP_CODES[0][0],
            "status_counts": stats["status_counts"],
            "annual_coverage_target": 0.01,
            "male_to_female_rate_ratio": float(SEX_REFERRAL_MULT[0] / SEX_REFERRAL_MULT[1]),
            "realised_male_to_female_rate_ratio": round(float(rate_male / rate_female), 4)
            if rate_female
            else None,
            "sex_rate_note": "hazard ratio per adult person-month at link-worker practices",
            "pcns_without_link_worker": [
                orgs.pcn_code[i] for i in np.flatnonzero(~orgs.pcn_has_lw)
            ],
            "practices_without_link_worker": [
                orgs.prac_code[i]
                for i in range(len(orgs.prac_code))
                if not orgs.pcn_has_lw[orgs.prac_pcn[i]]
            ],
            "selection": "referral hazard proportional to frailty^1.5 (elevated prior use)",
        },
        "qi_step_change": {
            "practices": step_codes,
            "change_dates": {c: QI_INTERVENTIONS[c].isoformat() for c in step_codes},
            "rate_multiplier": STEP_MULT,
            "monthly_cms_referrals": monthly,
        },
        "utilisation_effect": {
            "window_days": WINDOW_DAYS,
            "gp_appointment_rate_multiplier": GP_MULT,
            "ae_attendance_rate_multiplier": AE_MULT,
            "admissions_rate_multiplier": 1.0,
            "outpatient_rate_multiplier": 1.0,
            "attended_share": P_STATUS[0],
            "applies_to": "CMS and coded-only referrals, from referral_date for window_days",
            "population": {
                "referral_date_from": iso(window_from),
                "referral_date_to": iso(window_to_excl - 1),
                "note": "referred people (registered throughout ±window) whose "
                "whole pre and post windows lie inside the period; "
                "no secular trend or seasonality, rates are constant per "
                "person, so DiD against any comparison group estimates "
                "the expected values",
            },
            "cms_only": did(people.ref_kind == 1),
            "all_referred": did(people.ref_kind > 0),
        },
        "wellbeing": {
            "responses": stats["n_responses"],
            "incomplete_swemwbs_responses": stats["n_incomplete"],
            "follow_up_response_rate": cmsmod.FOLLOW_UP_RESPONSE,
            "swemwbs_planted": {
                "mean_change": cmsmod.SWEMWBS_PARAMS[2],
                "sd_change": cmsmod.SWEMWBS_PARAMS[3],
                "baseline_mean": cmsmod.SWEMWBS_PARAMS[0],
            },
            "swemwbs_realised_complete_pairs": paired(stats["sw_sum"], True),
            "ons4_planted_mean_change": {k: v[2] for k, v in cmsmod.ONS4_PARAMS.items()},
            "ons4_realised": {k: paired(v, False) for k, v in stats["ons"].items()},
            "ucla3_planted_mean_change": cmsmod.UCLA_PARAMS[2],
            "ucla3_realised": paired(stats["u_sum"], False),
        },
        "pathway": {
            "standard": "PRSB Social Prescribing Information Standard v1.1 (ISN, January "
            "2023; owned by NHS England from 1 January 2026): minimum dataset of "
            "demographics, needs and concerns, support offered (including referred-to "
            "activities) and outcomes",
            "referrer_type_probability": dict(zip(cmsmod.REFERRER, cmsmod.REFERRER_P, strict=True)),
            **cms["pathway"],
        },
        "clinician_survey": clinician_survey,
        "workforce": workforce,
        "defects": defects,
    }


def _expected_did(
    people: People, kind_mask: np.ndarray, window_from: int, window_to_excl: int
) -> dict:
    """Expected difference-in-differences per referred person (``kind_mask``, referred on a day
    in [window_from, window_to_excl)) from the rates actually used, with a tolerance of 3
    approximate standard errors (and a floor)."""
    selected = kind_mask & (people.ref_day >= window_from) & (people.ref_day < window_to_excl)
    n = int(selected.sum())
    years = WINDOW_DAYS / 365.0
    gp = people.rate_gp[selected] * years * P_STATUS[0]
    ae = people.rate_ae[selected] * years
    if n == 0:
        return {"n_referred": 0}
    se_gp = float(np.sqrt(2 * np.mean(gp * (1 + GP_MULT)) / n))
    se_ae = float(np.sqrt(2 * np.mean(ae * (1 + AE_MULT)) / n))
    return {
        "n_referred": n,
        "gp_attended_pre_mean": round(float(gp.mean()), 4),
        "expected_did_gp_attended_per_person": round(float(((GP_MULT - 1) * gp).mean()), 4),
        "tolerance_gp": round(max(3 * se_gp, 0.1), 4),
        "ae_pre_mean": round(float(ae.mean()), 4),
        "expected_did_ae_per_person": round(float(((AE_MULT - 1) * ae).mean()), 4),
        "tolerance_ae": round(max(3 * se_ae, 0.03), 4),
    }


@dataclass(frozen=True)
class _Responses:
    """Wellbeing responses, one element each: the referral, timepoint (0 baseline, 1
    follow-up) and whether a SWEMWBS item was left blank."""

    referral: np.ndarray
    timepoint: np.ndarray
    incomplete: np.ndarray


def _paired_change(responses: _Responses, values: np.ndarray, require_complete: bool) -> dict:
    """Mean and SD of follow-up minus baseline ``values`` over referrals with both (and, with
    ``require_complete``, both complete)."""
    rows = list(
        zip(responses.referral, values, responses.timepoint, responses.incomplete, strict=True)
    )
    baseline = {
        referral: value
        for referral, value, timepoint, incomplete in rows
        if timepoint == 0 and not (require_complete and incomplete)
    }
    diffs = [
        value - baseline[referral]
        for referral, value, timepoint, incomplete in rows
        if timepoint == 1 and referral in baseline and not (require_complete and incomplete)
    ]
    if not diffs:
        return {"n_pairs": 0}
    a = np.array(diffs, dtype=float)
    return {
        "n_pairs": int(a.size),
        "mean_change": round(float(a.mean()), 4),
        "sd_change": round(float(a.std(ddof=1)) if a.size > 1 else 0.0, 4),
    }

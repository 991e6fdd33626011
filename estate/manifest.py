"""Typed description of the planted-truth manifest (``<out>/landing/_manifest.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict


class Period(TypedDict):
    start: str  # ISO date, first day
    end: str  # ISO date, last day


class PracticeInfo(TypedDict):
    code: str
    name: str
    pcn_code: str  # PCN at the period start
    supplier: str  # EMIS or TPP (dialect gp_emis / gp_systmone)
    list_size_start: int


class PcnInfo(TypedDict):
    code: str
    name: str
    sub_icb_code: str
    has_link_worker: bool


class PcnMove(TypedDict):
    practice: str
    from_pcn: str
    to_pcn: str
    date: str  # first extract date showing the new PCN (membership valid from this date)


class Organisations(TypedDict):
    comm_region: str
    icbs: list[str]
    sub_icbs: list[str]
    pcns: list[PcnInfo]
    practices: list[PracticeInfo]
    pcn_move: PcnMove


class Defect(TypedDict):
    table: str  # raw table name, e.g. gp_emis_appointments
    check: str  # nhs_number_modulus11 | date_parse | duplicate_row | practice_code_known | required_column_missing | allowed_need | allowed_support_type
    column: str
    count: int  # exact number of affected rows
    files: list[str]  # paths relative to <out>/landing
    detail: dict[str, int]


class Manifest(TypedDict):
    schema_version: int
    tier: str
    seed: int
    period: Period
    generated_at: str
    qi_interventions: dict[str, str]  # practice code -> training date
    nhs_number_prefix: str
    registrations_mode: str
    extract_dates: dict[str, list[str]]
    organisations: Organisations
    row_counts: dict[str, int]
    referrals: dict[str, Any]
    qi_step_change: dict[str, Any]
    utilisation_effect: dict[str, Any]
    wellbeing: dict[str, Any]
    # The standard's needs and concerns and support offered: value sets, planted probabilities,
    # realised counts per need / support type, days to first contact (planted and realised).
    pathway: dict[str, Any]
    clinician_survey: dict[str, Any]
    workforce: dict[str, Any]
    defects: list[Defect]


def load_manifest(path: str | Path) -> dict:
    """Load a manifest; ``path`` may be the JSON file or the ``landing`` / output directory."""
    p = Path(path)
    if p.is_dir():
        p = (
            p / "_manifest.json"
            if (p / "_manifest.json").exists()
            else p / "landing" / "_manifest.json"
        )
    with p.open(encoding="utf-8") as fh:
        m = json.load(fh)
    if m.get("schema_version") != 1:
        raise ValueError(f"unsupported manifest schema_version {m.get('schema_version')!r}")
    return m

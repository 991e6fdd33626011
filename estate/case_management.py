"""Case management: the records ``estate.cms`` built, written twice with the same content — the
reporting SQLite database (under <out>/sources, read in place) and the JSON export (landing,
the day after the period end; children nested under each referral)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl

from estate.common import Writer, iso, ymd

DDL = {
    "referrals": "referral_id TEXT PRIMARY KEY, nhs_number TEXT, practice_code TEXT, "
    "referral_date TEXT, referrer_type TEXT, referral_reasons TEXT, "
    "status TEXT, first_contact_date TEXT, sessions INTEGER, "
    "discharge_date TEXT, discharge_reason TEXT, last_modified TEXT",
    "contacts": "contact_id TEXT PRIMARY KEY, referral_id TEXT, contact_date TEXT, "
    "contact_type TEXT, duration_minutes INTEGER, last_modified TEXT",
    "onward_referrals": "onward_referral_id TEXT PRIMARY KEY, referral_id TEXT, "
    "onward_referral_date TEXT, activity_category TEXT, "
    "organisation_name TEXT, attended INTEGER, last_modified TEXT",
    "outcome_measures": "outcome_id TEXT PRIMARY KEY, referral_id TEXT, "
    "measure_code TEXT, timepoint TEXT, recorded_date TEXT, "
    "score INTEGER, last_modified TEXT",
    "referral_needs": "need_id TEXT PRIMARY KEY, referral_id TEXT, need TEXT, "
    "identified_by TEXT, identified_date TEXT, last_modified TEXT",
    "support_offers": "support_id TEXT PRIMARY KEY, referral_id TEXT, "
    "support_type TEXT, offered_date TEXT, last_modified TEXT",
}


def export_path(end_excl: int) -> str:
    """The JSON export's path under landing (dated the day after the period end)."""
    return f"case_management/{iso(end_excl)}/cms_export_{ymd(end_excl)}.json"


def write_case_management(
    writer: Writer, out: Path, cms: dict[str, Any], end_excl: int
) -> list[str]:
    """Writes the database and the export; returns the extract dates (the export's one)."""
    tables = {
        "referrals": cms["referrals"],
        "contacts": cms["contacts"],
        "onward_referrals": cms["onward"],
        "outcome_measures": cms["outcomes"],
        "referral_needs": cms["needs"],
        "support_offers": cms["support"],
    }
    path = out / "sources" / "case_management" / "cms_reporting.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    try:
        for name, df in tables.items():
            con.execute(f"CREATE TABLE {name} ({DDL[name]})")
            con.executemany(f"INSERT INTO {name} VALUES ({','.join('?' * df.width)})", df.rows())
            writer.rows[f"cms_{name}"] = df.height
        con.commit()
    finally:
        con.close()
    # JSON export (identical content, children nested without referral_id)
    nested = cms["referrals"]
    children = [k for k in tables if k != "referrals"]
    for key in children:
        df = tables[key]
        cols = [x for x in df.columns if x != "referral_id"]
        grouped = df.group_by("referral_id", maintain_order=True).agg(pl.struct(cols).alias(key))
        nested = nested.join(grouped, on="referral_id", how="left", maintain_order="left")
    # a referral without children of a kind has an empty list, not null
    nested = nested.with_columns(pl.col(k).fill_null([]) for k in children)
    doc = {
        "schema_version": 1,
        "generated_at": f"{iso(end_excl)}T00:00:00",
        "referrals": nested.to_dicts(),
    }
    export = writer.landing / export_path(end_excl)
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    writer.files["cms_json"] = 1
    return [iso(end_excl)]

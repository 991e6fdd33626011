"""The case-management pull over SQLAlchemy: incremental by high-water mark, exact on rerun,
and the JSON export path gives the same raw rows as the database path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import polars as pl

from orchestration.lib import zones
from orchestration.lib.case_management import load_json_exports, pull_database
from orchestration.lib.settings import load_settings

COLUMNS = (
    "referral_id, nhs_number, practice_code, referral_date, referrer_type, referral_reasons, status, "
    "first_contact_date, sessions, discharge_date, discharge_reason, last_modified"
)


def make_db(path: Path, rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as con:
        con.execute(f"create table if not exists referrals ({COLUMNS})")
        for child in (
            "contacts (contact_id, referral_id, contact_date, contact_type, duration_minutes, last_modified)",
            "onward_referrals (onward_referral_id, referral_id, onward_referral_date, activity_category, organisation_name, attended, last_modified)",
            "outcome_measures (outcome_id, referral_id, measure_code, timepoint, recorded_date, score, last_modified)",
        ):
            con.execute(f"create table if not exists {child}")
        con.executemany("insert into referrals values (?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def referral(rid: str, modified: str, status: str = "Open") -> tuple:
    return (
        rid,
        "9434765919",
        "Z00001",
        "2024-01-03",
        "GP",
        "Loneliness or isolation",
        status,
        None,
        0,
        None,
        None,
        modified,
    )


def raw_referrals() -> pl.DataFrame:
    return zones.read_zone(load_settings().raw / "cms_referrals").sort(
        "referral_id", "extract_date"
    )


def test_incremental_pull_by_whole_months_and_exact_reruns(data_dir: Path) -> None:
    db = data_dir / "sources" / "case_management" / "cms_reporting.sqlite"
    make_db(db, [referral("R1", "2024-01-03T09:00:00"), referral("R2", "2024-02-04T10:00:00")])
    settings = load_settings()
    pull_database(settings, "run-1")
    first = raw_referrals()
    assert first["referral_id"].to_list() == ["R1", "R2"]
    assert [str(d) for d in first["extract_date"]] == ["2024-01-01", "2024-02-01"], (
        "one partition per change month"
    )

    pull_database(settings, "run-2")  # nothing changed: the same rows, the same partitions
    assert raw_referrals().drop("_source_file").equals(first.drop("_source_file"))

    with sqlite3.connect(db) as con:  # R1 is discharged a month later; R3 arrives
        con.execute(
            "update referrals set status = 'Discharged', last_modified = '2024-02-05T08:00:00' where referral_id = 'R1'"
        )
        con.execute(
            "insert into referrals values (?,?,?,?,?,?,?,?,?,?,?,?)",
            referral("R3", "2024-02-05T09:30:00"),
        )
    pull_database(settings, "run-3")
    after = raw_referrals()
    assert after.select("referral_id", "status", pl.col("extract_date").cast(pl.Utf8)).rows() == [
        ("R1", "Open", "2024-01-01"),
        ("R1", "Discharged", "2024-02-01"),
        ("R2", "Open", "2024-02-01"),
        ("R3", "Open", "2024-02-01"),
    ], "every pulled version kept; staging takes the latest per referral"
    assert "9434765919" not in after.write_csv()


def test_json_export_matches_database_rows(data_dir: Path, monkeypatch) -> None:
    rows = [referral("R1", "2024-01-03T09:00:00")]
    folder = data_dir / "landing" / "case_management" / "2024-01-03"
    folder.mkdir(parents=True)
    keys = [c.strip() for c in COLUMNS.split(",")]
    doc = {
        "schema_version": 1,
        "generated_at": "2024-01-03T23:00:00",
        "referrals": [
            dict(zip(keys, r, strict=True))
            | {
                "contacts": [
                    {
                        "contact_id": "C1",
                        "contact_date": "2024-01-04",
                        "contact_type": "Telephone",
                        "duration_minutes": 30,
                        "last_modified": "2024-01-04T00:00:00",
                    }
                ],
                "onward_referrals": [],
                "outcome_measures": [],
            }
            for r in rows
        ],
    }
    (folder / "cms_export_20240103.json").write_text(json.dumps(doc))
    load_json_exports(load_settings(), "json-run")
    via_json = raw_referrals()
    contacts = zones.read_zone(load_settings().raw / "cms_contacts")
    assert via_json["referral_id"].to_list() == ["R1"] and len(via_json["person_id"][0]) == 64
    assert contacts.select("contact_id", "referral_id").rows() == [("C1", "R1")]


def test_a_missing_database_file_is_reported_not_retried(data_dir: Path) -> None:
    from orchestration.lib.case_management import missing_sqlite_file

    assert (
        missing_sqlite_file(load_settings().cms_url)
        == data_dir / "sources" / "case_management" / "cms_reporting.sqlite"
    )
    assert missing_sqlite_file("postgresql+psycopg2://bi@127.0.0.1/cms") is None, (
        "servers are pulled (and retried)"
    )
    make_db(data_dir / "sources" / "case_management" / "cms_reporting.sqlite", [])
    assert missing_sqlite_file(load_settings().cms_url) is None

"""The case-management pull over SQLAlchemy: incremental by high-water mark, exact on rerun,
and the JSON export path gives the same raw rows as the database path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from orchestration.defs.case_management.definitions import case_management_pull
from orchestration.lib import zones
from orchestration.lib.case_management import load_json_exports, pull_database
from orchestration.lib.checks import reconcile
from orchestration.lib.ingest import audit_dir
from orchestration.lib.resources import PipelineSettings
from orchestration.lib.settings import load_settings

COLUMNS = (
    "referral_id, nhs_number, practice_code, referral_date, referrer_type, referral_reasons, status, "
    "first_contact_date, sessions, discharge_date, discharge_reason, last_modified"
)


CONTACT_COLUMNS = (
    "contact_id",
    "referral_id",
    "contact_date",
    "contact_type",
    "duration_minutes",
    "last_modified",
)
OUTCOME_COLUMNS = (
    "outcome_id",
    "referral_id",
    "measure_code",
    "timepoint",
    "recorded_date",
    "score",
    "last_modified",
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


CONTACT = {
    "contact_id": "C1",
    "contact_date": "2024-01-04",
    "contact_type": "Telephone",
    "duration_minutes": 30,
    "last_modified": "2024-01-04T00:00:00",
}
OUTCOME = {
    "outcome_id": "M1",
    "measure_code": "SWEMWBS",
    "timepoint": "baseline",
    "recorded_date": "2024-01-04",
    "score": 21,
    "last_modified": "2024-01-04T00:00:00",
}


NEED = {
    "need_id": "N1",
    "need": "Housing",
    "identified_by": "Link worker",
    "identified_date": "2024-01-04",
    "last_modified": "2024-01-04T00:00:00",
}
SUPPORT = {
    "support_id": "S1",
    "support_type": "Personalised care and support plan",
    "offered_date": "2024-01-04",
    "last_modified": "2024-01-04T00:00:00",
}


def add_standard_tables(db: Path, need_of: str, support_of: str) -> None:
    """The tables the Social Prescribing Information Standard added (make_db builds a database
    of a system that predates it), with one need and one support offer."""
    with sqlite3.connect(db) as con:
        for table, row, rid in (
            ("referral_needs", NEED, need_of),
            ("support_offers", SUPPORT, support_of),
        ):
            columns = ["referral_id", *row]
            con.execute(f"create table {table} ({', '.join(columns)})")
            con.execute(
                f"insert into {table} values ({','.join('?' * len(columns))})",
                [rid, *row.values()],
            )


def raw_tables() -> dict[str, pl.DataFrame]:
    """The content of every case-management raw table, without where it came from (the file
    or database name and the partition differ between the two paths by design)."""
    settings = load_settings()
    out = {}
    for table in (
        "cms_referrals",
        "cms_contacts",
        "cms_outcome_measures",
        "cms_referral_needs",
        "cms_support_offers",
    ):
        frame = zones.read_zone(settings.raw / table).drop("_source_file", "extract_date")
        out[table] = frame.sort(frame.columns[0])
    return out


def test_json_export_matches_database_rows(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same referrals through the database pull and through the JSON export give the same
    raw rows, column for column (person_id included: the same pseudonym either way)."""
    rows = [referral("R1", "2024-01-03T09:00:00"), referral("R2", "2024-01-03T10:00:00")]
    db = data_dir / "sources" / "case_management" / "cms_reporting.sqlite"
    make_db(db, rows)
    with sqlite3.connect(db) as con:
        con.execute(
            "insert into contacts values (?,?,?,?,?,?)",
            [CONTACT[k] if k != "referral_id" else "R1" for k in CONTACT_COLUMNS],
        )
        con.execute(
            "insert into outcome_measures values (?,?,?,?,?,?,?)",
            [OUTCOME[k] if k != "referral_id" else "R2" for k in OUTCOME_COLUMNS],
        )
    add_standard_tables(db, need_of="R1", support_of="R2")
    absent: list[str] = []
    pull_database(load_settings(), "db-run", absent=absent)
    assert absent == []
    via_database = raw_tables()

    json_data = tmp_path / "json_path" / "data"
    monkeypatch.setenv("SP_DATA_DIR", str(json_data))
    folder = json_data / "landing" / "case_management" / "2024-01-03"
    folder.mkdir(parents=True)
    keys = [c.strip() for c in COLUMNS.split(",")]
    doc = {
        "schema_version": 1,
        "generated_at": "2024-01-03T23:00:00",
        "referrals": [
            dict(zip(keys, r, strict=True))
            | {
                "contacts": [CONTACT] if r[0] == "R1" else [],
                "onward_referrals": [],
                "outcome_measures": [OUTCOME] if r[0] == "R2" else [],
                "referral_needs": [NEED] if r[0] == "R1" else [],
                "support_offers": [SUPPORT] if r[0] == "R2" else [],
            }
            for r in rows
        ],
    }
    (folder / "cms_export_20240103.json").write_text(json.dumps(doc))
    load_json_exports(load_settings(), "json-run")
    via_json = raw_tables()

    assert via_json["cms_referrals"]["referral_id"].to_list() == ["R1", "R2"]
    assert len(via_json["cms_referrals"]["person_id"][0]) == 64
    assert via_json["cms_contacts"].select("contact_id", "referral_id").rows() == [("C1", "R1")]
    assert via_json["cms_referral_needs"].select("need", "referral_id").rows() == [
        ("Housing", "R1")
    ]
    for table, frame in via_database.items():
        assert frame.height > 0, table
        assert_frame_equal(via_json[table], frame, check_column_order=False)


def test_a_database_that_predates_the_standard_still_loads_its_referrals(data_dir: Path) -> None:
    """A reporting database without the needs and support tables loads everything else and
    names the tables it lacks (the asset logs them and marks their materialisations); nothing
    is written for them, so dbt leaves what depends on them out as never landed."""
    db = data_dir / "sources" / "case_management" / "cms_reporting.sqlite"
    make_db(db, [referral("R1", "2024-01-03T09:00:00")])
    absent: list[str] = []
    results = pull_database(load_settings(), "old-system", absent=absent)
    assert absent == ["referral_needs", "support_offers"]
    assert [r.table for r in results] == ["cms_referrals"]
    assert raw_referrals()["referral_id"].to_list() == ["R1"]
    assert not (data_dir / "raw" / "cms_referral_needs").exists()


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


def export(rows: list[tuple], contacts: dict[str, list[dict]] | None = None) -> str:
    keys = [c.strip() for c in COLUMNS.split(",")]
    contacts = contacts or {}
    return json.dumps(
        {
            "schema_version": 1,
            "generated_at": "2024-01-03T23:00:00",
            "referrals": [
                dict(zip(keys, r, strict=True))
                | {
                    "contacts": contacts.get(r[0], []),
                    "onward_referrals": [],
                    "outcome_measures": [],
                }
                for r in rows
            ],
        }
    )


def test_two_exports_in_one_folder_both_load(data_dir: Path) -> None:
    """Each export used to replace the partition the previous one had just written."""
    folder = data_dir / "landing" / "case_management" / "2024-01-03"
    folder.mkdir(parents=True)
    (folder / "cms_export_20240103.json").write_text(
        export([referral("R1", "2024-01-03T09:00:00")], {"R1": [CONTACT]})
    )
    second_contact = CONTACT | {"contact_id": "C2"}
    (folder / "cms_export_20240103_2.json").write_text(
        export([referral("R2", "2024-01-03T18:00:00")], {"R2": [second_contact]})
    )
    load_json_exports(load_settings(), "two-exports")
    assert raw_referrals()["referral_id"].to_list() == ["R1", "R2"]
    contacts = zones.read_zone(load_settings().raw / "cms_contacts").sort("contact_id")
    assert contacts.select("contact_id", "referral_id").rows() == [("C1", "R1"), ("C2", "R2")]
    audit = zones.read_zone(audit_dir(load_settings(), "cms_referrals"))
    assert sorted(audit["source_file"].to_list()) == [
        "cms_export_20240103.json#referrals",
        "cms_export_20240103_2.json#referrals",
    ]
    settings = load_settings()
    assert reconcile("cms_referrals", settings)[0] and reconcile("cms_contacts", settings)[0]


def test_a_folder_that_is_not_a_date_is_left_to_landing_accounted(data_dir: Path) -> None:
    """An export in a folder such as `old/` is not read as an extract date (it used to fail
    the whole pull with a date parse error); landing_accounted reports it instead."""
    good = data_dir / "landing" / "case_management" / "2024-01-03"
    good.mkdir(parents=True)
    (good / "cms_export_20240103.json").write_text(export([referral("R1", "2024-01-03T09:00:00")]))
    stray = data_dir / "landing" / "case_management" / "old"
    stray.mkdir()
    (stray / "cms_export_20231201.json").write_text(export([referral("R0", "2023-12-01T09:00:00")]))
    load_json_exports(load_settings(), "stray-folder")
    assert raw_referrals()["referral_id"].to_list() == ["R1"]


def test_malformed_export_is_quarantined_whole_and_the_asset_completes(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A truncated export (a copy that stopped early) is quarantined whole with a message
    naming it; the good export beside it loads, through the real Dagster asset."""
    folder = data_dir / "landing" / "case_management" / "2024-01-03"
    folder.mkdir(parents=True)
    (folder / "cms_export_20240103.json").write_text(export([referral("R1", "2024-01-03T09:00")]))
    broken = export([referral("R2", "2024-01-03T18:00:00")])
    (folder / "cms_export_20240103_2.json").write_text(broken[: len(broken) // 2])
    (folder / "cms_export_20240103_3.json").write_text('{"schema_version": 1}')
    monkeypatch.setenv("SP_CMS_SOURCE", "json")

    result = dg.materialize(
        [case_management_pull], resources={"settings": PipelineSettings()}, raise_on_error=False
    )

    assert result.success
    assert raw_referrals()["referral_id"].to_list() == ["R1"]
    audit = zones.read_zone(audit_dir(load_settings(), "cms_referrals")).sort("source_file")
    assert audit.select("source_file", "outcome", "rows_read", "rows_quarantined").rows() == [
        ("cms_export_20240103.json#referrals", "loaded", 1, 0),
        ("cms_export_20240103_2.json", "quarantined", 1, 1),
        ("cms_export_20240103_3.json", "quarantined", 1, 1),
    ]
    quarantine = zones.read_zone(load_settings().quarantine / "cms_referrals").sort("_source_file")
    assert quarantine["check"].to_list() == ["unreadable_file", "unreadable_file"]
    truncated, no_referrals = quarantine["message"].to_list()
    assert "cms_export_20240103_2.json" in truncated and "invalid JSON" in truncated
    assert "cms_export_20240103_3.json" in no_referrals and "'referrals'" in no_referrals
    leaks = sum("9434765919" in t for t in (quarantine.write_csv(), audit.write_csv()))
    assert leaks == 0, "a raw NHS number reached the quarantine or the audit"
    assert reconcile("cms_referrals", load_settings())[0]

"""Every row-level rule of every extract, violated once: the bad row is quarantined with that
rule's name and the good row beside it is loaded. One valid row per extract is the template;
each case changes one value."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path

import polars as pl
import pytest

import schemas
from orchestration.lib import zones
from orchestration.lib.case_management import pull_database
from orchestration.lib.ingest import ingest_files
from orchestration.lib.settings import load_settings

DATE = dt.date(2024, 2, 1)
FUTURE = (dt.date.today() + dt.timedelta(days=30)).strftime("%Y-%m-%d")

# A valid landed row per extract (landing headers → values) and the file name to land it as.
VALID: dict[str, tuple[str, dict[str, str]]] = {
    "gp_emis_events": (
        "Z00001_Events_20240201.csv",
        {
            "Event GUID": "E-0001",
            "Practice Code": "Z00001",
            "NHS Number": "9434765919",
            "Event Date": "03/01/2024",
            "SNOMED Code": "871731000000106",
            "Term": "Referral to social prescribing service",
            "Value": "",
        },
    ),
    "gp_systmone_registrations": (
        "Z00001-PatientList-20240201.csv",
        {
            "OrganisationCode": "Z00001",
            "PatientNHSNumber": "9434765919",
            "BirthYearMonth": "198005",
            "Gender": "F",
            "EthnicCategoryCode": "A",
            "LSOA2011": "E01000001",
            "DateRegistered": "2010-04-01",
            "DateDeregistered": "",
        },
    ),
    "gp_systmone_appointments": (
        "Z00001-Appointments-20240201.csv",
        {
            "AppointmentIdentifier": "S1",
            "OrganisationCode": "Z00001",
            "PatientNHSNumber": "9434765919",
            "AppointmentDateTime": "2024-01-03 09:10:00",
            "AppointmentStatus": "Finished",
            "DeliveryMechanism": "In Person",
            "StaffType": "Practice Nurse",
            "NationalSlotCategory": "General Consultation Routine",
        },
    ),
    "acute_apc_admissions": (
        "apc_spells_202401.csv",
        {
            "SPELL_IDENTIFIER": "P1",
            "NHS_NUMBER": "9434765919",
            "GP_PRACTICE_CODE": "Z00001",
            "ADMISSION_DATE": "2024-01-03",
            "DISCHARGE_DATE": "2024-01-05",
            "ADMISSION_METHOD": "21",
        },
    ),
    "acute_ae_attendances": (
        "ae_attendances_202401.csv",
        {
            "ATTENDANCE_IDENTIFIER": "AE1",
            "NHS_NUMBER": "9434765919",
            "GP_PRACTICE_CODE": "Z00001",
            "ARRIVAL_DATE": "2024-01-03",
            "DEPARTMENT_TYPE": "01",
            "ADMITTED": "N",
        },
    ),
    "acute_op_attendances": (
        "op_attendances_202401.csv",
        {
            "ATTENDANCE_IDENTIFIER": "OP1",
            "NHS_NUMBER": "9434765919",
            "GP_PRACTICE_CODE": "Z00001",
            "APPOINTMENT_DATE": "2024-01-03",
            "ATTENDED_OR_DNA": "5",
            "FIRST_ATTENDANCE": "1",
            "TREATMENT_FUNCTION_CODE": "110",
        },
    ),
    "survey_wellbeing_responses": (
        "wellbeing_responses_20240201.csv",
        {
            "Response ID": "W1",
            "Submitted": "03/01/2024 10:15",
            "Client reference": "R1",
            "NHS number": "9434765919",
            "Timepoint": "Baseline",
            **{q: "Often" for q, _ in schemas.survey.SWEMWBS_ITEMS},
            **{q: "6" for q, _ in schemas.survey.ONS4_ITEMS},
            **{q: "Hardly ever" for q, _ in schemas.survey.UCLA3_ITEMS},
        },
    ),
    "survey_clinician_training": (
        "clinician_training_pre_20240201.csv",
        {
            "Response ID": "C1",
            "Submitted": "03/01/2024 10:15",
            "Practice code": "Z00001",
            "Role": "GP",
            "Survey wave": "Pre-training",
            "I understand the role of a social prescribing link worker": "Agree",
            "I know how to refer a patient to the social prescribing service": "Disagree",
            "I am confident identifying patients who would benefit from social prescribing": "Agree",
            "I am confident discussing social prescribing with patients": "Strongly agree",
            "What, if anything, stops you referring patients?": "Time",
        },
    ),
    "workforce_pcn_individual": (
        "pcn_workforce_individual_level_jan2024.csv",
        {
            "Data_source": "NWRS Staff",
            "CENSUS_YEAR": "2024",
            "CENSUS_MONTH": "1",
            "PCN_CODE": "U90001",
            "PCN_NAME": "A PCN",
            "SUB_ICB_CODE": "99A",
            "SUB_ICB_NAME": "",
            "ICB_CODE": "Q9A",
            "ICB_NAME": "",
            "COMM_REGION_CODE": "Y99",
            "COMM_REGION_NAME": "",
            "STAFF_GROUP": "Other Direct Patient Care staff",
            "STAFF_ROLE": "Social Prescribing Link Workers",
            "DETAILED_STAFF_ROLE": "Social Prescribing Link Worker",
            "FTE": "0.8",
            "UNIQUE_IDENTIFIER": "1001",
        },
    ),
    "ref_registered_patients": (
        "gp-reg-pat-prac-quin-age.csv",
        {
            "PUBLICATION": "GP_PRAC_PAT_LIST",
            "EXTRACT_DATE": "2024-02-01",
            "ORG_TYPE": "GP",
            "ORG_CODE": "Z00001",
            "ONS_CODE": "",
            "POSTCODE": "ZZ1 1ZZ",
            "SEX": "FEMALE",
            "AGE_GROUP_5": "0_4",
            "NUMBER_OF_PATIENTS": "84",
        },
    ),
    "ref_imd_lsoa": (
        "imd2019_lsoa.csv",
        {
            "LSOA code (2011)": "E01000001",
            "LSOA name (2011)": "City of London 001A",
            "Local Authority District code (2019)": "E09000001",
            "Local Authority District name (2019)": "City",
            "Index of Multiple Deprivation (IMD) Rank": "29199",
            "Index of Multiple Deprivation (IMD) Decile": "9",
        },
    ),
}

CASES = [
    ("gp_emis_events", "SNOMED Code", "87173100000010X", "snomed_concept_id"),
    ("gp_emis_events", "Event Date", "03/01/2099", "date_range"),
    ("gp_emis_events", "Value", "1,234", "number_parse"),  # thousands separator
    ("gp_systmone_registrations", "Gender", "Female", "allowed_sex"),
    ("gp_systmone_registrations", "EthnicCategoryCode", "Q", "allowed_ethnic_category"),
    ("gp_systmone_registrations", "LSOA2011", "W01000001", "lsoa_code"),
    ("gp_systmone_registrations", "BirthYearMonth", "1980-05", "date_parse"),
    (
        "gp_systmone_registrations",
        "DateDeregistered",
        "2009-01-01",
        "deregistered_after_registered",
    ),
    ("gp_systmone_appointments", "AppointmentDateTime", "03/01/2024 09:10", "date_parse"),
    ("gp_systmone_appointments", "DeliveryMechanism", "Carrier pigeon", "allowed_mode"),
    ("gp_systmone_appointments", "StaffType", "Wizard", "allowed_clinician_type"),
    ("acute_apc_admissions", "DISCHARGE_DATE", "2024-01-01", "discharge_after_admission"),
    ("acute_apc_admissions", "ADMISSION_METHOD", "99", "admission_method_code"),
    ("acute_ae_attendances", "ARRIVAL_DATE", FUTURE, "date_range"),
    ("acute_ae_attendances", "DEPARTMENT_TYPE", "1", "allowed_department_type"),
    ("acute_ae_attendances", "ADMITTED", "Yes", "allowed_flag"),
    ("acute_op_attendances", "ATTENDED_OR_DNA", "9", "allowed_attendance_code"),
    ("acute_op_attendances", "TREATMENT_FUNCTION_CODE", "11", "treatment_function_code"),
    ("acute_op_attendances", "FIRST_ATTENDANCE", "3", "allowed_first_attendance"),
    ("survey_wellbeing_responses", "I've been feeling useful", "Sometimes", "allowed_label"),
    (
        "survey_wellbeing_responses",
        "Overall, how anxious did you feel yesterday?",
        "11",
        "allowed_label",
    ),
    ("survey_wellbeing_responses", "How often do you feel left out?", "Always", "allowed_label"),
    ("survey_wellbeing_responses", "Timepoint", "Midpoint", "allowed_timepoint"),
    ("survey_wellbeing_responses", "Submitted", "2024-01-03", "date_parse"),
    ("survey_clinician_training", "Survey wave", "Training", "allowed_wave"),
    (
        "survey_clinician_training",
        "I understand the role of a social prescribing link worker",
        "Yes",
        "allowed_label",
    ),
    ("workforce_pcn_individual", "PCN_CODE", "X12345", "ods_pcn_code"),
    ("workforce_pcn_individual", "CENSUS_MONTH", "13", "month_number"),
    ("workforce_pcn_individual", "FTE", "one", "number_parse"),
    ("workforce_pcn_individual", "Data_source", "Locum agency", "allowed_data_source"),
    ("ref_registered_patients", "AGE_GROUP_5", "0-4", "allowed_age_group"),
    ("ref_registered_patients", "NUMBER_OF_PATIENTS", "1,204", "number_parse"),
    ("ref_registered_patients", "ORG_TYPE", "PRACTICE", "allowed_org_type"),
    ("ref_imd_lsoa", "Index of Multiple Deprivation (IMD) Decile", "11", "decile_1_to_10"),
]


def write(spec: schemas.ExtractSpec, rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(rows[0]), delimiter=spec.delimiter, lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize(
    ("table", "header", "value", "check"), CASES, ids=[f"{t}-{c}-{h[:20]}" for t, h, _, c in CASES]
)
def test_each_rule_quarantines_its_row(
    data_dir: Path, table: str, header: str, value: str, check: str
) -> None:
    spec = schemas.EXTRACTS[table]
    name, good = VALID[table]
    bad = dict(good) | {header: value}
    # Give the bad row its own source key, so that only the rule under test fails: a different
    # valid NHS number, or the last digit of a code moved on by one.
    key_cols = [c for c in spec.columns if c.raw in spec.key]
    key = next((c for c in key_cols if c.identifier or bad[c.header][-1:].isdigit()), None)
    if key is not None and key.identifier:
        bad[key.header] = "9990000018"
    elif key is not None:
        bad[key.header] = bad[key.header][:-1] + str((int(bad[key.header][-1]) + 1) % 10)
    folder = data_dir / "landing" / spec.source / DATE.isoformat()
    folder.mkdir(parents=True)
    (folder / name).write_bytes(write(spec, [good, bad]))
    zones.replace_partition(
        data_dir / "raw" / "ref_practice_mapping", DATE, pl.DataFrame({"practice_code": ["Z00001"]})
    )

    (result,) = ingest_files(load_settings(), spec, [DATE], run_id="rules")

    quarantine = zones.read_zone(load_settings().quarantine / table)
    assert set(quarantine["check"]) == {check}
    assert quarantine["_row_number"].unique().to_list() == [2], "the bad row, and only it"
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)


def test_every_rule_in_the_schemas_is_exercised_somewhere() -> None:
    """Keep this file honest: a new rule in schemas/ needs a case here (or in the contract tests)."""
    exercised = (
        {c for *_, c in CASES}
        | {c for *_, c in CMS_CASES}
        | {
            "nhs_number_modulus11",
            "not_nullable",
            "ods_practice_code",
            "allowed_status",
            "date_parse",
            "date_range",
            "practice_code_known",
            "duplicate_row",
            "unique_key",
            "required_column_missing",
            "follow_up_after_baseline",  # the survey's: test_survey_follow_up_before_baseline…
        }
    )
    declared = {
        name
        for spec in schemas.EXTRACTS.values()
        for col in spec.columns
        for name, _ in col.all_rules()
    }
    declared |= {rule.name for spec in schemas.EXTRACTS.values() for rule in spec.row_rules}
    declared |= {rule.name for spec in schemas.EXTRACTS.values() for rule in spec.episode_rules}
    assert declared - exercised == set(), "rules never violated by a test"


# The case-management rules, through the real pull from its reporting database (SQLite here).
CMS_VALID: dict[str, dict[str, str | None]] = {
    "referrals": {
        "referral_id": "R1",
        "nhs_number": "9434765919",
        "practice_code": "Z00001",
        "referral_date": "2024-01-03",
        "referrer_type": "GP",
        "referral_reasons": "Loneliness or isolation",
        "status": "Discharged",
        "first_contact_date": "2024-01-05",
        "sessions": "3",
        "discharge_date": "2024-01-20",
        "discharge_reason": "Goals met",
        "last_modified": "2024-01-20T10:00:00",
    },
    "contacts": {
        "contact_id": "C1",
        "referral_id": "R1",
        "contact_date": "2024-01-05",
        "contact_type": "Telephone",
        "duration_minutes": "30",
        "last_modified": "2024-01-20T10:00:00",
    },
    "onward_referrals": {
        "onward_referral_id": "O1",
        "referral_id": "R1",
        "onward_referral_date": "2024-01-06",
        "activity_category": "Befriending",
        "organisation_name": "A VCSE",
        "attended": "1",
        "last_modified": "2024-01-20T10:00:00",
    },
    "outcome_measures": {
        "outcome_id": "M1",
        "referral_id": "R1",
        "measure_code": "SWEMWBS",
        "timepoint": "baseline",
        "recorded_date": "2024-01-05",
        "score": "21",
        "last_modified": "2024-01-20T10:00:00",
    },
    "referral_needs": {
        "need_id": "N1",
        "referral_id": "R1",
        "need": "Housing",
        "identified_by": "Link worker",
        "identified_date": "2024-01-05",
        "last_modified": "2024-01-20T10:00:00",
    },
    "support_offers": {
        "support_id": "S1",
        "referral_id": "R1",
        "support_type": "Information and signposting",
        "offered_date": "2024-01-05",
        "last_modified": "2024-01-20T10:00:00",
    },
}

# (database table, values changed in the second row, the rule it violates)
CMS_CASES = [
    ("referrals", {"referrer_type": "Neighbour"}, "allowed_referrer_type"),
    ("referrals", {"status": "Lost"}, "allowed_referral_status"),
    ("referrals", {"discharge_date": "2024-01-02"}, "discharge_after_referral"),
    ("referrals", {"first_contact_date": "2024-01-01"}, "first_contact_after_referral"),
    ("contacts", {"contact_type": "Carrier pigeon"}, "allowed_contact_type"),
    ("onward_referrals", {"activity_category": "Skydiving"}, "allowed_activity_category"),
    ("outcome_measures", {"measure_code": "PHQ9"}, "allowed_measure"),
    ("referral_needs", {"need": "Loneliness"}, "allowed_need"),
    ("referral_needs", {"identified_by": "GP"}, "allowed_need_identified_by"),
    ("referral_needs", {"identified_date": "05/01/2024"}, "date_parse"),
    ("support_offers", {"support_type": "Social prescribing"}, "allowed_support_type"),
    ("outcome_measures", {"score": "36"}, "score_in_measure_range"),
    ("outcome_measures", {"score": "6"}, "score_in_measure_range"),
    (
        "outcome_measures",
        {"measure_code": "ONS4_ANXIETY", "score": "11"},
        "score_in_measure_range",
    ),
    ("outcome_measures", {"measure_code": "UCLA3", "score": "2"}, "score_in_measure_range"),
    (
        "outcome_measures",
        {"timepoint": "follow_up", "recorded_date": "2024-01-04"},
        "follow_up_after_baseline",
    ),
]


def make_cms_database(path: Path, table: str, rows: list[dict[str, str | None]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as con:
        for name, spec in schemas.case_management.DB_TABLES.items():
            # Table and column names are the schema's own constants, not data.
            columns = ", ".join(c.header for c in spec.columns)
            con.execute(f"create table {name} ({columns})")
        headers = list(rows[0])
        marks = ", ".join("?" for _ in headers)
        con.executemany(
            f"insert into {table} ({', '.join(headers)}) values ({marks})",
            [[r[h] for h in headers] for r in rows],
        )


@pytest.mark.parametrize(
    ("table", "changes", "check"),
    CMS_CASES,
    ids=[f"{t}-{c}-{'-'.join(ch.values())}" for t, ch, c in CMS_CASES],
)
def test_each_case_management_rule_quarantines_its_row(
    data_dir: Path, table: str, changes: dict[str, str], check: str
) -> None:
    spec = schemas.case_management.DB_TABLES[table]
    good = CMS_VALID[table]
    key = spec.key[0]
    bad = dict(good) | changes | {key: good[key][:-1] + "2"}
    make_cms_database(
        data_dir / "sources" / "case_management" / "cms_reporting.sqlite", table, [good, bad]
    )
    zones.replace_partition(
        data_dir / "raw" / "ref_practice_mapping", DATE, pl.DataFrame({"practice_code": ["Z00001"]})
    )

    (result,) = pull_database(load_settings(), run_id="cms-rules")

    quarantine = zones.read_zone(load_settings().quarantine / spec.table)
    assert set(quarantine["check"]) == {check}
    assert quarantine["_row_number"].unique().to_list() == [2], "the bad row, and only it"
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)


def test_survey_follow_up_before_baseline_is_quarantined(data_dir: Path) -> None:
    """Baseline and follow-up are separate responses (rows), and may come in separate files of
    the same extract date: the rule is checked across the partition's whole batch."""
    spec = schemas.EXTRACTS["survey_wellbeing_responses"]
    name, baseline = VALID["survey_wellbeing_responses"]
    early = baseline | {
        "Response ID": "W2",
        "Timepoint": "Follow-up",
        "Submitted": "02/01/2024 09:00",
    }
    other_early = baseline | {
        "Response ID": "W3",
        "Client reference": "R2",
        "Timepoint": "Follow-up",
        "Submitted": "02/01/2024 09:00",
    }
    other_client = baseline | {"Response ID": "W4", "Client reference": "R2"}
    folder = data_dir / "landing" / spec.source / DATE.isoformat()
    folder.mkdir(parents=True)
    (folder / name).write_bytes(write(spec, [baseline, other_client, other_early]))
    (folder / "wellbeing_responses_20240202.csv").write_bytes(write(spec, [early]))

    (result,) = ingest_files(load_settings(), spec, [DATE], run_id="episodes")

    quarantine = zones.read_zone(load_settings().quarantine / spec.table)
    got = quarantine.select("_source_file", "_row_number", "check", "failure_value").rows()
    assert sorted(got) == [
        (name, 3, "follow_up_after_baseline", "02/01/2024 09:00"),
        ("wellbeing_responses_20240202.csv", 1, "follow_up_after_baseline", "02/01/2024 09:00"),
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 2, 2)


def test_identical_workforce_lines_are_separate_records(data_dir: Path) -> None:
    """The PCN workforce publication lists one line per contracted service, with no identifier:
    two identical lines are two records, both loaded (elsewhere they would be duplicates)."""
    spec = schemas.EXTRACTS["workforce_pcn_individual"]
    name, good = VALID["workforce_pcn_individual"]
    contracted = dict(good) | {
        "Data_source": "NWRS contracted services",
        "UNIQUE_IDENTIFIER": "",
        "FTE": "0.33",
    }
    folder = data_dir / "landing" / spec.source / DATE.isoformat()
    folder.mkdir(parents=True)
    (folder / name).write_bytes(write(spec, [good, contracted, contracted]))
    (result,) = ingest_files(load_settings(), spec, [DATE], run_id="records")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)

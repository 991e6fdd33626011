"""Estate: NHS number rule, determinism, landing layouts and planted-defect counts."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from estate.generate import generate
from estate.manifest import load_manifest
from estate.nhs_number import (
    check_digit,
    check_digits_array,
    generate_nhs_numbers,
    invalid_nhs_numbers,
    is_valid_array,
    is_valid_nhs_number,
)


# ----------------------------------------------------------------- NHS number
def test_worked_example_valid():
    assert check_digit("943476591") == 9
    assert is_valid_nhs_number("9434765919")


def test_wrong_check_digit_invalid():
    assert not is_valid_nhs_number("9434765918")


def test_remainder_10_stem_invalid():
    # find a stem whose check value is 10: every last digit must be invalid
    stem = next(f"{n:09d}" for n in range(999000000, 999001000) if check_digit(f"{n:09d}") is None)
    assert all(not is_valid_nhs_number(stem + str(d)) for d in range(10))


def test_check_11_becomes_0():
    stem = next(
        f"{n:09d}"
        for n in range(999000000, 999001000)
        if sum(int(d) * w for d, w in zip(f"{n:09d}", range(10, 1, -1), strict=True)) % 11 == 0
    )
    assert check_digit(stem) == 0
    assert is_valid_nhs_number(stem + "0")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "943476591",
        "94347659190",
        "94347659a9",
        "943 476 591",
        "９４３４７６５９１９",
        None,
        9434765919,
    ],
)
def test_malformed_invalid(bad):
    assert not is_valid_nhs_number(bad)


def test_vectorised_matches_scalar():
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(1))
    nums = generate_nhs_numbers(rng, 5000, "999")
    assert len(set(nums.tolist())) == 5000
    assert all(is_valid_nhs_number(str(n)) for n in nums[:500])
    assert is_valid_array(nums).all()
    assert (nums // 10_000_000 == 999).all()
    stems = np.arange(999000000, 999002000)
    cds = check_digits_array(stems)
    for s, c in zip(stems[:300], cds[:300], strict=True):
        exp = check_digit(str(s))
        assert (exp if exp is not None else 10) == c
    bad = invalid_nhs_numbers(rng, 10)
    assert not any(is_valid_nhs_number(b) for b in bad)


# ----------------------------------------------------------------- generated tiny tier
@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny_a")
    generate("tiny", 42, out, progress=False)
    return out


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_deterministic_same_seed(tiny, tmp_path):
    generate("tiny", 42, tmp_path, progress=False)
    a, b = _hashes(tiny), _hashes(tmp_path)
    assert a.keys() == b.keys()
    assert a == b


def test_different_seed_differs(tiny, tmp_path):
    generate("tiny", 7, tmp_path, progress=False)
    a, b = _hashes(tiny), _hashes(tmp_path)
    assert a["landing/_manifest.json"] != b["landing/_manifest.json"]


def test_refuses_non_empty_landing(tiny):
    with pytest.raises(FileExistsError):
        generate("tiny", 42, tiny, progress=False)


HEADERS = {
    "gp_emis/*/*_Registrations_*.csv": (
        "Practice Code,NHS Number,Month Of Birth,Sex,Ethnicity,"
        "LSOA Code,Registered Date,Deregistered Date",
        ",",
    ),
    "gp_emis/*/*_Events_*.csv": (
        "Event GUID,Practice Code,NHS Number,Event Date,SNOMED Code,Term,Value",
        ",",
    ),
    "gp_systmone/*/*-PatientList-*.csv": (
        "OrganisationCode|PatientNHSNumber|BirthYearMonth|Gender|EthnicCategoryCode|LSOA2011|"
        "DateRegistered|DateDeregistered",
        "|",
    ),
    "gp_systmone/*/*-CodedEvents-*.csv": (
        "RowIdentifier|OrganisationCode|PatientNHSNumber|EventDate|ConceptId|Description|"
        "NumericValue",
        "|",
    ),
    "gp_systmone/*/*-Appointments-*.csv": (
        "AppointmentIdentifier|OrganisationCode|PatientNHSNumber|AppointmentDateTime|"
        "AppointmentStatus|DeliveryMechanism|StaffType|NationalSlotCategory",
        "|",
    ),
    "acute/*/ae_attendances_*.csv": (
        "ATTENDANCE_IDENTIFIER,NHS_NUMBER,GP_PRACTICE_CODE,ARRIVAL_DATE,DEPARTMENT_TYPE,ADMITTED",
        ",",
    ),
    "acute/*/apc_spells_*.csv": (
        "SPELL_IDENTIFIER,NHS_NUMBER,GP_PRACTICE_CODE,ADMISSION_DATE,"
        "DISCHARGE_DATE,ADMISSION_METHOD",
        ",",
    ),
    "acute/*/op_attendances_*.csv": (
        "ATTENDANCE_IDENTIFIER,NHS_NUMBER,GP_PRACTICE_CODE,"
        "APPOINTMENT_DATE,ATTENDED_OR_DNA,FIRST_ATTENDANCE,"
        "TREATMENT_FUNCTION_CODE",
        ",",
    ),
    "reference/*/gp-reg-pat-prac-map.csv": (
        "PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,"
        "PCN_NAME,ONS_SUB_ICB_LOCATION_CODE,SUB_ICB_LOCATION_CODE,SUB_ICB_LOCATION_NAME,"
        "ONS_ICB_CODE,ICB_CODE,ICB_NAME,ONS_COMM_REGION_CODE,COMM_REGION_CODE,COMM_REGION_NAME,"
        "SUPPLIER_NAME",
        ",",
    ),
    "reference/*/gp-reg-pat-prac-quin-age.csv": (
        "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,AGE_GROUP_5,"
        "NUMBER_OF_PATIENTS",
        ",",
    ),
    "reference/*/imd2019_lsoa.csv": (
        "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),"
        "Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank,"
        "Index of Multiple Deprivation (IMD) Decile",
        ",",
    ),
}


def _first_line(p: Path, encoding: str = "utf-8-sig") -> str:
    return p.read_bytes().decode(encoding).splitlines()[0]


@pytest.mark.parametrize("pattern", sorted(HEADERS))
def test_headers(tiny, pattern):
    files = sorted((tiny / "landing").glob(pattern))
    assert files, pattern
    for f in files:
        assert _first_line(f) == HEADERS[pattern][0], f


def test_emis_appointments_header_and_missing_mode(tiny):
    full = (
        "Appointment ID,Practice Code,NHS Number,Appointment Date,Status,Mode,"
        "Clinician Type,National Category"
    )
    files = sorted((tiny / "landing").glob("gp_emis/*/*_Appointments_*.csv"))
    heads = [_first_line(f) for f in files]
    missing = [f for f, h in zip(files, heads, strict=True) if h != full]
    assert len(missing) == 1
    assert _first_line(missing[0]) == full.replace(",Mode", "")


def test_workforce_bom_crlf(tiny):
    files = sorted((tiny / "landing").glob("workforce/*/*.csv"))
    assert files
    for f in files:
        raw = f.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbfData_source,CENSUS_YEAR,CENSUS_MONTH,PCN_CODE,")
        assert raw.count(b"\n") == raw.count(b"\r\n")
        assert raw.rstrip(b"\r\n").split(b"\r\n")[0].endswith(b"FTE,UNIQUE_IDENTIFIER")


def test_reference_formats(tiny):
    m = sorted((tiny / "landing").glob("reference/*/gp-reg-pat-prac-map.csv"))[0]
    row = m.read_text().splitlines()[1].split(",")
    assert len(row[1]) == 9 and row[1][2:5].isalpha()  # e.g. 01Mar2023
    q = sorted((tiny / "landing").glob("reference/*/gp-reg-pat-prac-quin-age.csv"))[0]
    rows = list(csv.DictReader(io.StringIO(q.read_text())))
    assert {r["ORG_TYPE"] for r in rows} == {
        "GP",
        "PCN",
        "SUB_ICB_LOCATION_CODE",
        "ICB",
        "Comm Region",
    }
    assert rows[0]["EXTRACT_DATE"][4] == "-"
    ages = {r["AGE_GROUP_5"] for r in rows}
    assert {"0_4", "5_9", "90_94", "95+", "ALL"} <= ages and len(ages) == 21
    assert {r["SEX"] for r in rows} == {"ALL", "MALE", "FEMALE"}


def test_cp1252_file(tiny):
    man = load_manifest(tiny / "landing" / "_manifest.json")
    p = tiny / "landing" / man["clinician_survey"]["cp1252_file"]
    raw = p.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "’" in raw.decode("cp1252") or "£" in raw.decode("cp1252")


def _rows(path: Path, sep: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")), delimiter=sep))


def test_defect_counts_match_files(tiny):
    landing = tiny / "landing"
    man = load_manifest(tiny)
    d = {(x["table"], x["check"]): x for x in man["defects"]}
    # invalid NHS numbers
    for table, pattern, col in (
        ("gp_emis_appointments", "gp_emis/*/*_Appointments_*.csv", "NHS Number"),
        ("acute_ae_attendances", "acute/*/ae_attendances_*.csv", "NHS_NUMBER"),
    ):
        n = sum(
            not is_valid_nhs_number(r[col]) for f in landing.glob(pattern) for r in _rows(f, ",")
        )
        assert n == d[(table, "nhs_number_modulus11")]["count"] > 0
    # valid elsewhere
    assert all(
        is_valid_nhs_number(r["NHS Number"])
        for f in landing.glob("gp_emis/*/*_Events_*.csv")
        for r in _rows(f, ",")
    )
    # malformed dates
    import datetime as dt

    def bad_ts(s: str) -> bool:
        try:
            dt.datetime.strptime(s, "%Y-%m-%d %H:%M:%S")
            return False
        except ValueError:
            return True

    n = sum(
        bad_ts(r["AppointmentDateTime"])
        for f in landing.glob("gp_systmone/*/*-Appointments-*.csv")
        for r in _rows(f, "|")
    )
    assert n == d[("gp_systmone_appointments", "date_parse")]["count"] > 0
    # duplicates: rows repeated within a file
    n = 0
    for f in landing.glob("gp_emis/*/*_Events_*.csv"):
        lines = f.read_text().splitlines()[1:]
        n += len(lines) - len(set(lines))
    assert n == d[("gp_emis_events", "duplicate_row")]["count"] > 0
    # unknown practice codes
    known = {
        r["PRACTICE_CODE"]
        for f in landing.glob("reference/*/gp-reg-pat-prac-map.csv")
        for r in _rows(f, ",")
    }
    n = sum(
        r["GP_PRACTICE_CODE"] not in known
        for f in landing.glob("acute/*/op_attendances_*.csv")
        for r in _rows(f, ",")
    )
    assert n == d[("acute_op_attendances", "practice_code_known")]["count"] > 0
    # missing column
    mm = d[("gp_emis_appointments", "required_column_missing")]
    assert len(mm["files"]) == 1
    assert len(_rows(landing / mm["files"][0], ",")) == mm["count"]
    for x in man["defects"]:
        for f in x["files"]:
            assert (landing / f).exists()


def test_manifest_and_cms(tiny):
    import sqlite3

    man = load_manifest(tiny)
    assert man["tier"] == "tiny" and man["seed"] == 42
    assert man["referrals"]["male_to_female_rate_ratio"] == 0.6
    assert man["qi_step_change"]["change_dates"] == {
        "Z10001": "2024-01-01",
        "Z10003": "2024-03-01",
        "Z10004": "2024-05-01",
    }
    assert len(man["referrals"]["pcns_without_link_worker"]) == 1
    eff = man["utilisation_effect"]["cms_only"]
    assert eff["expected_did_gp_attended_per_person"] < 0 and eff["n_referred"] > 50
    con = sqlite3.connect(tiny / "sources" / "case_management" / "cms_reporting.sqlite")
    refs = con.execute("select referral_id, practice_code, nhs_number from referrals").fetchall()
    assert len(refs) == man["row_counts"]["cms_referrals"]
    assert not {r[1] for r in refs} & set(man["referrals"]["practices_without_link_worker"])
    assert all(is_valid_nhs_number(r[2]) for r in refs)
    sw = con.execute(
        "select count(*) from outcome_measures where measure_code='SWEMWBS'"
    ).fetchone()[0]
    assert sw == man["wellbeing"]["responses"] - man["wellbeing"]["incomplete_swemwbs_responses"]
    exp = next((tiny / "landing" / "case_management").glob("*/cms_export_*.json"))
    doc = json.loads(exp.read_text(encoding="utf-8"))
    assert doc["schema_version"] == 1 and len(doc["referrals"]) == len(refs)
    assert (
        sum(len(r["contacts"]) for r in doc["referrals"])
        == con.execute("select count(*) from contacts").fetchone()[0]
    )
    # workforce: latest month SPLW headcount/FTE as in the manifest
    wf = man["workforce"]
    f = sorted((tiny / "landing").glob(f"workforce/{wf['latest_census_date']}/*.csv"))[0]
    rows = list(csv.DictReader(io.StringIO(f.read_bytes().decode("utf-8-sig"))))
    splw = [r for r in rows if r["STAFF_ROLE"] in wf["splw_roles"]]
    assert len({r["UNIQUE_IDENTIFIER"] for r in splw}) == wf["expected_splw_headcount"]
    assert abs(sum(float(r["FTE"]) for r in splw) - wf["expected_splw_fte"]) < 1e-6
    assert not {r["PCN_CODE"] for r in splw} & set(wf["pcns_without_link_worker"])
    assert any(
        r["Data_source"] == "NWRS contracted services" and r["UNIQUE_IDENTIFIER"] == ""
        for r in rows
    )


def test_pathway_records_of_the_standard(tiny):
    """Needs and concerns and support offered (the Social Prescribing Information Standard's
    repeating elements) in the database and the JSON export alike; the manifest's realised
    counts are the data's; the planted value-set defects are the only labels outside the value
    sets; support "Referral to community activity" exactly when an onward referral was made."""
    import sqlite3

    from estate.cms import NEEDS, SUPPORT_TYPES

    man = load_manifest(tiny)
    pw = man["pathway"]
    con = sqlite3.connect(tiny / "sources" / "case_management" / "cms_reporting.sqlite")
    exp = next((tiny / "landing" / "case_management").glob("*/cms_export_*.json"))
    doc = json.loads(exp.read_text(encoding="utf-8"))
    for table in ("referral_needs", "support_offers"):
        rows = con.execute(f"select count(*) from {table}").fetchone()[0]
        assert rows == man["row_counts"][f"cms_{table}"] > 0
        assert sum(len(r[table]) for r in doc["referrals"]) == rows
    with_need = dict(
        con.execute(
            "select need, count(distinct referral_id) from referral_needs group by need"
        ).fetchall()
    )
    bad = {d["check"]: d["count"] for d in man["defects"] if d["table"].startswith("cms_")}
    assert {k: v for k, v in with_need.items() if k not in NEEDS} == {
        "Loneliness": bad["allowed_need"]
    }
    assert {k: with_need.get(k, 0) for k in NEEDS} == pw["referrals_with_need"]
    offered = dict(
        con.execute(
            "select support_type, count(distinct referral_id) from support_offers group by 1"
        ).fetchall()
    )
    assert (
        sum(v for k, v in offered.items() if k not in SUPPORT_TYPES) == bad["allowed_support_type"]
    )
    assert {k: offered.get(k, 0) for k in SUPPORT_TYPES} == pw["referrals_with_support"]
    mismatch = con.execute(
        "select count(*) from referrals r "
        "where (exists (select 1 from onward_referrals o where o.referral_id = r.referral_id)) "
        "<> (exists (select 1 from support_offers s where s.referral_id = r.referral_id "
        "and s.support_type = 'Referral to community activity'))"
    ).fetchone()[0]
    assert mismatch == 0
    # every referral has a need or concern; the referrer's reasons are among them
    assert (
        con.execute(
            "select count(*) from referrals r where not exists "
            "(select 1 from referral_needs n where n.referral_id = r.referral_id)"
        ).fetchone()[0]
        == 0
    )
    ftc = pw["days_to_first_contact"]
    contacted = con.execute(
        "select count(*) from referrals where first_contact_date is not null"
    ).fetchone()[0]
    assert ftc["contacted"] == contacted
    assert ftc["planted_median"] == 8 and 0.6 < ftc["planted_within_14_days"] < 0.7


def test_qi_seed_lists_the_estates_interventions() -> None:
    """The dbt seed the warehouse reads and the estate's planted interventions are one list, and
    every date leaves the QIP windows (3 months before, 2 after) inside every tier's period."""
    import datetime as dt

    from estate.tiers import QI_INTERVENTIONS, TIERS

    seed = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "qi_interventions.csv"
    with seed.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert {
        r["unit_code"]: r["intervention_date"] for r in rows if r["unit_level"] == "practice"
    } == {k: v.isoformat() for k, v in QI_INTERVENTIONS.items()}
    for tier in TIERS.values():
        for code, date in QI_INTERVENTIONS.items():
            before = dt.date(date.year - (date.month <= 3), (date.month - 4) % 12 + 1, 1)
            after = dt.date(date.year + (date.month >= 11), (date.month + 1) % 12 + 1, 1)
            assert tier.start <= before and after <= tier.end, (tier.name, code)

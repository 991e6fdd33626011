"""The ingest file contract and row rules, one malformed input at a time.

Each case lands one small file next to a known-good file and runs the real ingest for one
extract date. For every case: the run completes, the good rows are loaded, each bad row is
quarantined with the expected check, and rows read = rows loaded + rows quarantined, per file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import schemas
from orchestration.lib import zones
from orchestration.lib.checks import reconcile
from orchestration.lib.ingest import WITHHELD, audit_dir, ingest_files, latest_audit
from orchestration.lib.settings import load_settings

DATE = dt.date(2024, 2, 1)
HEADER = "Appointment ID,Practice Code,NHS Number,Appointment Date,Status,Mode,Clinician Type,National Category"
GOOD = [
    "A1,Z00001,9434765919,03/01/2024,Attended,Telephone,GP,General Consultation Routine",
    "A2,Z00001,9990000018,04/01/2024,Did Not Attend,Face-to-Face,Nurse,",
]
GOOD_FILE = "Z00001_Appointments_20240201.csv"
BAD_FILE = "Z00002_Appointments_20240201.csv"
SPEC = schemas.EXTRACTS["gp_emis_appointments"]


def land(data: Path, name: str, content: bytes) -> None:
    folder = data / "landing" / "gp_emis" / DATE.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)


def leaked(text: str, *numbers: str) -> int:
    """How many of ``numbers`` occur in ``text``: a count, so that a failing assertion never
    prints the text (and the number) into the test output."""
    return sum(n in text for n in numbers)


def seed_practice_mapping(data: Path) -> None:
    zones.replace_partition(
        data / "raw" / "ref_practice_mapping",
        DATE,
        pl.DataFrame({"practice_code": ["Z00001", "Z00002"]}),
    )


def run_ingest() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    settings = load_settings()
    ingest_files(settings, SPEC, [DATE], run_id="test-run")
    return (
        zones.read_zone(settings.raw / SPEC.table),
        zones.read_zone(settings.quarantine / SPEC.table),
        zones.read_zone(audit_dir(settings, SPEC.table)),
    )


def csv(*rows: str, header: str = HEADER, sep: str = "\n") -> bytes:
    return (sep.join([header, *rows]) + sep).encode()


# (case id, file bytes, expected {check: rows}, expected loaded rows from the bad file)
ROW_CASES = [
    (
        "bad_check_digit",
        csv("B1,Z00002,9434765918,03/01/2024,Attended,Telephone,GP,"),
        {"nhs_number_modulus11": 1},
        0,
    ),
    (
        "nine_digit_nhs_number",
        csv("B1,Z00002,943476591,03/01/2024,Attended,Telephone,GP,"),
        {"nhs_number_modulus11": 1},
        0,
    ),
    (
        "missing_nhs_number",
        csv("B1,Z00002,,03/01/2024,Attended,Telephone,GP,"),
        {"not_nullable": 1},
        0,
    ),
    (
        "impossible_date",
        csv("B1,Z00002,9434765919,31/02/2024,Attended,Telephone,GP,"),
        {"date_parse": 1},
        0,
    ),
    (
        "excel_mangled_date",
        csv("B1,Z00002,9434765919,45321,Attended,Telephone,GP,"),
        {"date_parse": 1},
        0,
    ),
    (
        "iso_date_in_dmy_dialect",
        csv("B1,Z00002,9434765919,2024-01-03,Attended,Telephone,GP,"),
        {"date_parse": 1},
        0,
    ),
    (
        "date_before_1900",
        csv("B1,Z00002,9434765919,03/01/1899,Attended,Telephone,GP,"),
        {"date_range": 1},
        0,
    ),
    (
        "unknown_status",
        csv("B1,Z00002,9434765919,03/01/2024,Maybe,Telephone,GP,"),
        {"allowed_status": 1},
        0,
    ),
    (
        "lower_case_practice_code",
        csv("B1,z00002,9434765919,03/01/2024,Attended,Telephone,GP,"),
        {"ods_practice_code": 1},
        0,
    ),
    (
        "trailing_space_in_code",
        csv("B1,Z00002 ,9434765919,03/01/2024,Attended,Telephone,GP,"),
        {"ods_practice_code": 1},
        0,
    ),
    (
        "unknown_practice",
        csv("B1,Z99999,9434765919,03/01/2024,Attended,Telephone,GP,"),
        {"practice_code_known": 1},
        0,
    ),
    (
        "exact_duplicate_row",
        csv(
            "B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,",
            "B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,",
        ),
        {"duplicate_row": 1},
        1,
    ),
    (
        "same_key_different_content",
        csv(
            "B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,",
            "B1,Z00002,9434765919,05/01/2024,Attended,Telephone,GP,",
        ),
        {"unique_key": 2},
        0,
    ),
    (
        "swapped_columns",
        csv("B1,Z00002,9434765919,03/01/2024,Telephone,Attended,GP,"),
        {"allowed_status": 1, "allowed_mode": 1},
        0,
    ),
    (
        "one_good_one_bad",
        csv(
            "B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,",
            "B2,Z00002,9434765919,03/01/2024,Attended,Carrier pigeon,GP,",
        ),
        {"allowed_mode": 1},
        1,
    ),
]


@pytest.mark.parametrize(
    ("case", "content", "expected", "loaded_from_bad"), ROW_CASES, ids=[c[0] for c in ROW_CASES]
)
def test_row_level_problem_is_quarantined_with_its_reason(
    data_dir: Path, case: str, content: bytes, expected: dict[str, int], loaded_from_bad: int
) -> None:
    seed_practice_mapping(data_dir)
    land(data_dir, GOOD_FILE, csv(*GOOD))
    land(data_dir, BAD_FILE, content)
    raw, quarantine, audit = run_ingest()

    assert raw.filter(pl.col("_source_file") == GOOD_FILE).height == len(GOOD), (
        "good file fully loaded"
    )
    assert raw.filter(pl.col("_source_file") == BAD_FILE).height == loaded_from_bad
    got = dict(quarantine.group_by("check").len().iter_rows())
    assert got == expected
    bad = audit.filter(pl.col("source_file") == BAD_FILE).row(0, named=True)
    assert bad["rows_read"] == bad["rows_loaded"] + bad["rows_quarantined"]
    assert reconcile(SPEC.table, load_settings())[0]


def test_quarantine_never_holds_a_raw_nhs_number(data_dir: Path) -> None:
    seed_practice_mapping(data_dir)
    land(
        data_dir,
        BAD_FILE,
        csv(
            "B1,Z00002,9434765918,31/02/2024,Maybe,Telephone,GP,",
            "B1,Z00002,9434765918,31/02/2024,Maybe,Telephone,GP,",
        ),
    )
    raw, quarantine, _ = run_ingest()
    text = quarantine.write_csv()
    assert "9434765918" not in text
    failure = quarantine.filter(pl.col("check") == "nhs_number_modulus11")[
        "failure_value"
    ].to_list()
    assert failure and all(len(v) == 64 for v in failure), (
        "identifier failures keep the pseudonym only"
    )


FILE_CASES = [
    ("zero_byte_file", b"", "rejected", 0, 0),
    ("header_only_file", csv(), "loaded", 0, 0),
    (
        "missing_required_column",
        b"Appointment ID,Practice Code,NHS Number,Appointment Date,Status,Clinician Type,National Category\n"
        b"B1,Z00002,9434765919,03/01/2024,Attended,GP,\nB2,Z00002,9434765919,03/01/2024,Attended,GP,\n",
        "quarantined",
        2,
        0,
    ),
    (
        "unknown_extra_column",
        csv(
            "B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,,surprise",
            header=HEADER + ",Surprise",
        ),
        "loaded",
        0,
        1,
    ),
    (
        "utf8_bom_and_crlf",
        b"\xef\xbb\xbf" + csv("B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,", sep="\r\n"),
        "loaded",
        0,
        1,
    ),
    (
        "cp1252_encoded",
        csv("B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,Café £5 clinic")
        .decode()
        .encode("cp1252"),
        "loaded",
        0,
        1,
    ),
    (
        "reordered_columns",
        b"NHS Number,Appointment ID,Practice Code,Appointment Date,Status,Mode,Clinician Type,National Category\n"
        b"9434765919,B1,Z00002,03/01/2024,Attended,Telephone,GP,\n",
        "loaded",
        0,
        1,
    ),
]


@pytest.mark.parametrize(
    ("case", "content", "outcome", "quarantined", "loaded"),
    FILE_CASES,
    ids=[c[0] for c in FILE_CASES],
)
def test_file_level_contract(
    data_dir: Path, case: str, content: bytes, outcome: str, quarantined: int, loaded: int
) -> None:
    seed_practice_mapping(data_dir)
    land(data_dir, GOOD_FILE, csv(*GOOD))
    land(data_dir, BAD_FILE, content)
    raw, quarantine, audit = run_ingest()

    assert raw.filter(pl.col("_source_file") == GOOD_FILE).height == len(GOOD), (
        "other files are unaffected"
    )
    bad = audit.filter(pl.col("source_file") == BAD_FILE).row(0, named=True)
    assert bad["outcome"] == outcome
    assert (bad["rows_quarantined"], bad["rows_loaded"]) == (quarantined, loaded)
    assert reconcile(SPEC.table, load_settings())[0]
    if case == "missing_required_column":
        assert "Mode" in bad["message"] and BAD_FILE in bad["message"]
        assert set(quarantine["check"]) == {"required_column_missing"}
    if case == "unknown_extra_column":
        assert "Surprise" in bad["message"]
    if case == "cp1252_encoded":
        assert bad["encoding"] == "cp1252"
        assert (
            raw.filter(pl.col("_source_file") == BAD_FILE)["national_category"][0]
            == "Café £5 clinic"
        )
    if case == "utf8_bom_and_crlf":
        assert bad["encoding"] == "utf-8-sig"


def test_rerunning_a_partition_replaces_it_exactly(data_dir: Path) -> None:
    seed_practice_mapping(data_dir)
    land(data_dir, GOOD_FILE, csv(*GOOD))
    land(data_dir, BAD_FILE, csv("B1,Z00002,9434765918,03/01/2024,Attended,Telephone,GP,"))
    settings = load_settings()
    snapshots = []
    for _ in range(3):
        ingest_files(settings, SPEC, [DATE], run_id="rerun", force=True)
        raw = zones.read_zone(settings.raw / SPEC.table).sort("_source_file", "_row_number")
        q = zones.read_zone(settings.quarantine / SPEC.table).sort("_source_file", "_row_number")
        snapshots.append((raw, q))
    for raw, q in snapshots[1:]:
        assert raw.equals(snapshots[0][0]) and q.equals(snapshots[0][1])
    assert len(list((settings.raw / SPEC.table).glob("extract_date=*/*.parquet"))) == 1


def test_reconciliation_is_asked_again_when_a_zone_file_changes(data_dir: Path) -> None:
    """The check and the dbt step both reconcile a table in one run; the second answer is the
    first only while no file it reads changed (lib/checks.py): a raw partition that lost a row
    after the check is caught by the dbt step's exclusions."""
    seed_practice_mapping(data_dir)
    land(data_dir, GOOD_FILE, csv(*GOOD))
    settings = load_settings()
    ingest_files(settings, SPEC, [DATE], run_id="r1")
    assert reconcile(SPEC.table, settings) == reconcile(SPEC.table, settings)
    assert reconcile(SPEC.table, settings)[0]
    (part,) = (settings.raw / SPEC.table).glob("extract_date=*/*.parquet")
    pl.read_parquet(part).head(len(GOOD) - 1).write_parquet(part)
    ok, figures = reconcile(SPEC.table, settings)
    assert not ok and figures["raw_zone_rows"] == len(GOOD) - 1


def test_the_audit_is_read_again_only_when_its_files_change(data_dir: Path) -> None:
    """The ingest, its checks and the night's summary ask for the same audit in one run: it is
    read from disk once while its files stay the same (lib/ingest/audit.py), and read again as
    soon as a run adds its own file."""
    seed_practice_mapping(data_dir)
    land(data_dir, GOOD_FILE, csv(*GOOD))
    settings = load_settings()
    ingest_files(settings, SPEC, [DATE], run_id="r1")
    first = latest_audit(settings, SPEC.table)
    assert latest_audit(settings, SPEC.table) is first
    assert set(first["run_id"]) == {"r1"} and set(first["source_file"]) == {GOOD_FILE}
    land(data_dir, BAD_FILE, csv("B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,"))
    ingest_files(settings, SPEC, [DATE], run_id="r2")
    second = latest_audit(settings, SPEC.table)
    assert set(second["run_id"]) == {"r2"}
    assert set(second["source_file"]) == {GOOD_FILE, BAD_FILE}


def test_unchanged_partition_is_skipped_not_reloaded(data_dir: Path) -> None:
    seed_practice_mapping(data_dir)
    land(data_dir, GOOD_FILE, csv(*GOOD))
    settings = load_settings()
    first = ingest_files(settings, SPEC, [DATE], run_id="r1")[0]
    second = ingest_files(settings, SPEC, [DATE], run_id="r2")[0]
    assert not first.skipped and second.skipped
    land(data_dir, BAD_FILE, csv("B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,"))
    third = ingest_files(settings, SPEC, [DATE], run_id="r3")[0]
    assert not third.skipped and third.rows_loaded == 3


def test_truncated_last_line_is_quarantined_not_read_as_blanks(data_dir: Path) -> None:
    seed_practice_mapping(data_dir)
    content = csv("B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,") + b"B2,Z00002,94347659"
    land(data_dir, BAD_FILE, content)
    raw, quarantine, audit = run_ingest()
    assert raw["appointment_id"].to_list() == ["B1"]
    assert quarantine.filter(pl.col("check") == "truncated_row")["_row_number"].to_list() == [2]
    bad = audit.filter(pl.col("source_file") == BAD_FILE).row(0, named=True)
    assert (bad["rows_read"], bad["rows_loaded"], bad["rows_quarantined"]) == (2, 1, 1)


def test_wrong_delimiter_is_named_in_the_message(data_dir: Path) -> None:
    seed_practice_mapping(data_dir)
    land(
        data_dir,
        BAD_FILE,
        csv(
            "B1;Z00002;9434765919;03/01/2024;Attended;Telephone;GP;",
            header=HEADER.replace(",", ";"),
        ),
    )
    _, _, audit = run_ingest()
    bad = audit.filter(pl.col("source_file") == BAD_FILE).row(0, named=True)
    assert bad["outcome"] == "quarantined"
    assert "looks ';'-delimited" in bad["message"] and BAD_FILE in bad["message"]


def test_duplicate_file_is_skipped_and_recorded_not_loaded_twice(data_dir: Path) -> None:
    seed_practice_mapping(data_dir)
    land(data_dir, GOOD_FILE, csv(*GOOD))
    run_ingest()
    # The same extract resent next day under a new name, and twice in one folder.
    later = DATE + dt.timedelta(days=1)
    folder = data_dir / "landing" / "gp_emis" / later.isoformat()
    folder.mkdir(parents=True)
    (folder / "Z00001_Appointments_20240202.csv").write_bytes(csv(*GOOD))
    (folder / "Z00002_Appointments_20240202.csv").write_bytes(
        csv("B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,")
    )
    (folder / "Z00003_Appointments_20240202.csv").write_bytes(
        csv("B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,")
    )
    settings = load_settings()
    ingest_files(settings, SPEC, [later], run_id="resent")

    raw = zones.read_zone(settings.raw / SPEC.table)
    assert raw.height == len(GOOD) + 1, "the resent file and the in-folder copy add nothing"
    audit = zones.read_zone(audit_dir(settings, SPEC.table)).filter(pl.col("extract_date") == later)
    outcomes = dict(audit.select("source_file", "outcome").iter_rows())
    assert outcomes == {
        "Z00001_Appointments_20240202.csv": "duplicate",
        "Z00002_Appointments_20240202.csv": "loaded",
        "Z00003_Appointments_20240202.csv": "duplicate",
    }
    message = audit.filter(pl.col("source_file") == "Z00001_Appointments_20240202.csv")["message"][
        0
    ]
    assert GOOD_FILE in message and str(DATE) in message
    assert reconcile(SPEC.table, load_settings())[0]


def test_nhs_number_in_a_swapped_column_is_withheld(data_dir: Path) -> None:
    """Columns shifted by the source: the NHS number lands in Practice Code (and, spaced 3-3-4,
    in Clinician Type). Those columns are not identifiers, but the value must still be withheld."""
    seed_practice_mapping(data_dir)
    land(
        data_dir,
        BAD_FILE,
        csv(
            "B1,9434765919,Z00002,03/01/2024,Attended,Telephone,GP,",
            "B2,Z00002,9434765919,03/01/2024,Attended,Telephone,943 476 5919,",
        ),
    )
    _, quarantine, audit = run_ingest()
    everything = quarantine.write_csv() + audit.write_csv()
    assert leaked(everything, "9434765919", "943 476 5919") == 0
    by_check = dict(quarantine.select("check", "failure_value").iter_rows())
    assert by_check["ods_practice_code"] == WITHHELD
    assert by_check["allowed_clinician_type"] == WITHHELD
    assert len(by_check["nhs_number_modulus11"]) == 64, "identifier failures keep the pseudonym"
    bad = audit.filter(pl.col("source_file") == BAD_FILE).row(0, named=True)
    assert (bad["rows_read"], bad["rows_quarantined"]) == (2, 2)


def test_headerless_file_does_not_leak_its_first_row_into_the_audit(data_dir: Path) -> None:
    """Without a header, polars takes the first data row as column names; the audit message
    lists unknown columns, so the first row's NHS number would be written there."""
    seed_practice_mapping(data_dir)
    land(
        data_dir,
        BAD_FILE,
        b"B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,\n"
        b"B2,Z00002,9990000018,03/01/2024,Attended,Telephone,GP,\n",
    )
    _, quarantine, audit = run_ingest()
    everything = quarantine.write_csv() + audit.write_csv()
    assert leaked(everything, "9434765919", "9990000018") == 0
    bad = audit.filter(pl.col("source_file") == BAD_FILE).row(0, named=True)
    assert bad["outcome"] == "quarantined" and BAD_FILE in bad["message"]
    assert "no recognised header" in bad["message"]
    assert reconcile(SPEC.table, load_settings())[0]


def test_file_without_a_header_is_quarantined_whole_with_every_line_counted(
    data_dir: Path,
) -> None:
    """The first line is data, not a header: it is a row too, so three lines are three rows."""
    seed_practice_mapping(data_dir)
    land(data_dir, GOOD_FILE, csv(*GOOD))
    land(
        data_dir,
        BAD_FILE,
        b"B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,\n"
        b"B2,Z00002,9990000018,03/01/2024,Attended,Telephone,GP,\n"
        b"B3,Z00002,9990000018,04/01/2024,Attended,Telephone,GP,\n",
    )
    raw, quarantine, audit = run_ingest()
    assert raw.filter(pl.col("_source_file") == BAD_FILE).is_empty()
    assert raw.filter(pl.col("_source_file") == GOOD_FILE).height == len(GOOD)
    bad = audit.filter(pl.col("source_file") == BAD_FILE).row(0, named=True)
    assert (bad["rows_read"], bad["rows_loaded"], bad["rows_quarantined"]) == (3, 0, 3)
    assert bad["outcome"] == "quarantined"
    rows = quarantine.filter(pl.col("_source_file") == BAD_FILE)
    assert rows["_row_number"].to_list() == [1, 2, 3]
    assert set(rows["check"]) == {"header_missing"}
    message = rows["message"][0]
    assert BAD_FILE in message and "no recognised header" in message
    assert reconcile(SPEC.table, load_settings())[0]


def test_unreadable_file_is_quarantined_whole_with_its_lines_counted(data_dir: Path) -> None:
    """A quote opening inside an unquoted field makes the CSV reader give up on the file: the
    file is quarantined whole, its data lines counted, and the other file still loads."""
    seed_practice_mapping(data_dir)
    land(data_dir, GOOD_FILE, csv(*GOOD))
    land(
        data_dir,
        BAD_FILE,
        csv(
            'B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,5" screen',
            "B2,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,",
            "B3,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,",
        ),
    )
    raw, quarantine, audit = run_ingest()
    assert raw.filter(pl.col("_source_file") == GOOD_FILE).height == len(GOOD)
    bad = audit.filter(pl.col("source_file") == BAD_FILE).row(0, named=True)
    assert (bad["rows_read"], bad["rows_loaded"], bad["rows_quarantined"]) == (3, 0, 3)
    assert bad["outcome"] == "quarantined"
    assert BAD_FILE in bad["message"] and "cannot be parsed as CSV" in bad["message"]
    rows = quarantine.filter(pl.col("_source_file") == BAD_FILE)
    assert set(rows["check"]) == {"unreadable_file"} and rows.height == 3
    assert rows["message"][0] == bad["message"]
    assert leaked(quarantine.write_csv() + audit.write_csv(), "9434765919") == 0
    assert reconcile(SPEC.table, load_settings())[0]


def test_ragged_rows_are_quarantined_and_the_rest_of_the_file_loads(data_dir: Path) -> None:
    """One row with an extra delimiter used to make the whole file unreadable (rows_read 0), and
    a short row was padded with nulls. Each is now a ragged_row; the well-formed rows load."""
    seed_practice_mapping(data_dir)
    land(
        data_dir,
        BAD_FILE,
        csv(
            "B1,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,",
            "B2,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,,extra",
            'B3,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,"Routine, with a comma"',
            "B4,Z00002,9434765919,03/01/2024,Attended",
            'B5,Z00002,9434765919,03/01/2024,Attended,Telephone,GP,"two\nlines"',
        ),
    )
    raw, quarantine, audit = run_ingest()
    loaded = raw.filter(pl.col("_source_file") == BAD_FILE)
    assert loaded["appointment_id"].to_list() == ["B1", "B3", "B5"]
    assert loaded["national_category"].to_list()[1:] == ["Routine, with a comma", "two\nlines"]
    assert quarantine.select("_source_file", "_row_number", "check", "failure_value").rows() == [
        (BAD_FILE, 2, "ragged_row", "found 9 fields, expected 8"),
        (BAD_FILE, 4, "ragged_row", "found 5 fields, expected 8"),
    ]
    bad = audit.filter(pl.col("source_file") == BAD_FILE).row(0, named=True)
    assert (bad["rows_read"], bad["rows_loaded"], bad["rows_quarantined"]) == (5, 3, 2)
    assert bad["outcome"] == "partial"
    assert reconcile(SPEC.table, load_settings())[0]

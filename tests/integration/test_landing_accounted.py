"""Every file in the landing area is accounted for: read under the extract it belongs to — by
its name, with the extension in any case, gzipped or zipped, or by its header when it was
renamed — or recorded as unrecognised with the reason, failing the landing_accounted check
(which stops nothing else). And a source that has never landed is left out of the dbt build
with a note, not an error.

Each case lands small hand-made files (synthetic test-range NHS numbers only) and runs the real
ingest for one extract date, or the landing_accounted asset through Dagster.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import random
import zipfile
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

import schemas
from orchestration.lib import zones
from orchestration.lib.checks import (
    LANDING_ACCOUNTED,
    build_landing_accounted,
    landing_accounted,
    reconcile,
)
from orchestration.lib.ingest import (
    AUDIT_SCHEMA,
    WITHHELD,
    audit_dir,
    ingest_files,
    landing,
    landing_dates,
)
from orchestration.lib.ingest.landing import UNRECOGNISED_TABLE, header_fits, inventory
from orchestration.lib.landing_watch import account_for_landing, landed_dates
from orchestration.lib.resources import PipelineSettings
from orchestration.lib.settings import load_settings
from orchestration.lib.summary import print_summary
from orchestration.lib.warehouse.selection import source_exclusions

DATE = dt.date(2024, 2, 1)
APPOINTMENTS = schemas.EXTRACTS["gp_emis_appointments"]
EVENTS = schemas.EXTRACTS["gp_emis_events"]
APPT_HEADER = "Appointment ID,Practice Code,NHS Number,Appointment Date,Status,Mode,Clinician Type,National Category"
EVENT_HEADER = "Event GUID,Practice Code,NHS Number,Event Date,SNOMED Code,Term,Value"
GOOD_FILE = "Z00001_Appointments_20240201.csv"
RESOURCES = {"settings": PipelineSettings()}


def appointments(prefix: str, bad: int = 0) -> bytes:
    """Two good appointment rows, and ``bad`` rows with a wrong check digit."""
    rows = [
        f"{prefix}1,Z00001,9434765919,03/01/2024,Attended,Telephone,GP,",
        f"{prefix}2,Z00001,9990000018,04/01/2024,Did Not Attend,Face-to-Face,Nurse,",
        *(f"{prefix}B{i},Z00001,9434765918,03/01/2024,Attended,Telephone,GP," for i in range(bad)),
    ]
    return ("\n".join([APPT_HEADER, *rows]) + "\n").encode()


def events(prefix: str) -> bytes:
    rows = [f"{prefix}1,Z00001,9434765919,03/01/2024,1234567,Referral to social prescriber,"]
    return ("\n".join([EVENT_HEADER, *rows]) + "\n").encode()


def folder(data: Path, source: str = "gp_emis", day: dt.date = DATE) -> Path:
    path = data / "landing" / source / day.isoformat()
    path.mkdir(parents=True, exist_ok=True)
    return path


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def seed_practice_mapping(data: Path) -> None:
    zones.replace_partition(
        data / "raw" / "ref_practice_mapping", DATE, pl.DataFrame({"practice_code": ["Z00001"]})
    )


def ingest(*specs: schemas.ExtractSpec) -> dict[str, pl.DataFrame]:
    """The real ingest of DATE for each of ``specs``; the audit rows of each, by file."""
    settings = load_settings()
    out = {}
    for spec in specs:
        ingest_files(settings, spec, [DATE], run_id="test-run")
        out[spec.table] = zones.read_zone(audit_dir(settings, spec.table)).sort("source_file")
    return out


def unrecognised_audit() -> pl.DataFrame:
    return zones.read_zone(audit_dir(load_settings(), UNRECOGNISED_TABLE))


def by_file(audit: pl.DataFrame) -> dict[str, dict]:
    return {r["source_file"]: r for r in audit.iter_rows(named=True)}


def assert_reconciled(audit: pl.DataFrame, table: str) -> None:
    read = audit.filter(pl.col("rows_read") != pl.col("rows_loaded") + pl.col("rows_quarantined"))
    assert read.is_empty(), read["source_file"].to_list()
    ok, figures = reconcile(table, load_settings())
    assert ok, figures


# ---------------------------------------------------------------------------------------------
# Read under the extract they belong to
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "renamed",
    ["Z00001_Appointments_20240201__v2.csv", "Z00001_Appointments_20240201 (1).csv", "export.csv"],
)
def test_a_renamed_file_is_read_by_its_header_and_its_audit_row_says_so(
    data_dir: Path, renamed: str
) -> None:
    seed_practice_mapping(data_dir)
    here = folder(data_dir)
    (here / GOOD_FILE).write_bytes(appointments("A"))
    (here / renamed).write_bytes(appointments("R", bad=1))
    audits = ingest(APPOINTMENTS)
    audit = by_file(audits[APPOINTMENTS.table])

    assert set(audit) == {GOOD_FILE, renamed}
    row = audit[renamed]
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (3, 2, 1)
    assert row["outcome"] == "partial"
    assert row["message"].startswith(
        "identified by its header as gp_emis_appointments; expected a name like "
        + APPOINTMENTS.pattern
    )
    assert audit[GOOD_FILE]["message"] is None, "a file named as expected needs no note"
    assert_reconciled(audits[APPOINTMENTS.table], APPOINTMENTS.table)
    assert not inventory(data_dir / "landing").unrecognised


def test_a_renamed_copy_with_a_broken_header_is_read_by_its_name_and_quarantined_whole(
    data_dir: Path,
) -> None:
    """A damaged copy whose first line is no header (here: data, no header at all) is still
    read under the extract its name, less the copy suffix, names: every line is quarantined and
    counted, rather than the file being set aside."""
    seed_practice_mapping(data_dir)
    here = folder(data_dir)
    headerless = b"\n".join(appointments("H").splitlines()[1:]) + b"\n"
    (here / "Z00001_Appointments_20240201__v2.csv").write_bytes(headerless)
    audit = ingest(APPOINTMENTS)[APPOINTMENTS.table]
    (row,) = audit.iter_rows(named=True)
    assert (row["outcome"], row["rows_read"], row["rows_quarantined"]) == ("quarantined", 2, 2)
    assert "identified by its name as a copy of a gp_emis_appointments file" in row["message"]
    assert "'__v2'" in row["message"]
    assert leaked(row["message"], "9434765919", "9990000018") == 0
    assert_reconciled(audit, APPOINTMENTS.table)


def test_upper_case_extension_is_read_as_named(data_dir: Path) -> None:
    seed_practice_mapping(data_dir)
    (folder(data_dir) / "Z00001_Appointments_20240201.CSV").write_bytes(appointments("U"))
    audit = ingest(APPOINTMENTS)[APPOINTMENTS.table]
    (row,) = audit.iter_rows(named=True)
    assert (row["source_file"], row["outcome"], row["rows_loaded"]) == (
        "Z00001_Appointments_20240201.CSV",
        "loaded",
        2,
    )
    assert row["message"] is None
    assert landing_dates(load_settings(), APPOINTMENTS) == [DATE]


def test_gzipped_file_is_read_as_the_file_it_holds_and_hashed_decompressed(
    data_dir: Path,
) -> None:
    seed_practice_mapping(data_dir)
    content = appointments("G", bad=1)
    (folder(data_dir) / "Z00001_Appointments_20240201.csv.gz").write_bytes(gzip.compress(content))
    audit = ingest(APPOINTMENTS)[APPOINTMENTS.table]
    (row,) = audit.iter_rows(named=True)
    assert row["source_file"] == "Z00001_Appointments_20240201.csv.gz"
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (3, 2, 1)
    assert row["sha256"] == hashlib.sha256(content).hexdigest()
    assert_reconciled(audit, APPOINTMENTS.table)


def test_the_same_rows_plain_and_gzipped_are_one_file_to_duplicate_detection(
    data_dir: Path,
) -> None:
    seed_practice_mapping(data_dir)
    here = folder(data_dir)
    (here / GOOD_FILE).write_bytes(appointments("A"))
    (here / "Z00002_Appointments_20240201.csv.gz").write_bytes(gzip.compress(appointments("A")))
    audit = by_file(ingest(APPOINTMENTS)[APPOINTMENTS.table])
    assert audit[GOOD_FILE]["outcome"] == "loaded"
    assert audit["Z00002_Appointments_20240201.csv.gz"]["outcome"] == "duplicate"


def test_a_zip_holding_two_extracts_yields_one_audited_file_each(data_dir: Path) -> None:
    seed_practice_mapping(data_dir)
    (folder(data_dir) / "gp_extract.zip").write_bytes(
        zipped(
            {
                "Z00001_Appointments_20240201.csv": appointments("Z", bad=1),
                "Z00001_Events_20240201.csv": events("E"),
            }
        )
    )
    audits = ingest(APPOINTMENTS, EVENTS)
    (appt,) = audits[APPOINTMENTS.table].iter_rows(named=True)
    (event,) = audits[EVENTS.table].iter_rows(named=True)
    assert appt["source_file"] == "gp_extract.zip/Z00001_Appointments_20240201.csv"
    assert (appt["rows_read"], appt["rows_loaded"], appt["rows_quarantined"]) == (3, 2, 1)
    assert appt["sha256"] == hashlib.sha256(appointments("Z", bad=1)).hexdigest()
    assert event["source_file"] == "gp_extract.zip/Z00001_Events_20240201.csv"
    assert (event["rows_read"], event["rows_loaded"]) == (1, 1)
    raw = zones.read_zone(load_settings().raw / EVENTS.table)
    assert raw["_source_file"].to_list() == ["gp_extract.zip/Z00001_Events_20240201.csv"]
    for table, audit in audits.items():
        assert_reconciled(audit, table)
    assert not inventory(data_dir / "landing").unrecognised


def test_a_damaged_archive_named_as_an_extract_is_rejected_with_the_reason(
    data_dir: Path,
) -> None:
    seed_practice_mapping(data_dir)
    here = folder(data_dir)
    (here / GOOD_FILE).write_bytes(appointments("A"))
    (here / "Z00002_Appointments_20240201.csv.gz").write_bytes(
        gzip.compress(appointments("D"))[:-12]  # cut off: the gzip trailer is missing
    )
    audit = by_file(ingest(APPOINTMENTS)[APPOINTMENTS.table])
    row = audit["Z00002_Appointments_20240201.csv.gz"]
    assert (row["outcome"], row["rows_read"]) == ("rejected", 0)
    assert "cannot be decompressed" in row["message"]
    assert audit[GOOD_FILE]["outcome"] == "loaded", "the other files are unaffected"


# ---------------------------------------------------------------------------------------------
# Unrecognised files: audited with the reason, once; the check fails, nothing else stops
# ---------------------------------------------------------------------------------------------


def land_foreign_files(data: Path) -> dict[str, str]:
    """Files no extract reads, in the right place and in wrong ones: path → a word its reason
    must hold."""
    here = folder(data)
    (here / GOOD_FILE).write_bytes(appointments("A"))
    rng = random.Random(7)
    (here / "referral letter.pdf").write_bytes(b"%PDF-1.4\n" + rng.randbytes(2000))
    (here / "notes.csv").write_bytes(b"Colour,Shape\nred,round\n")
    (here / "empty.txt").write_bytes(b"")
    (here / "letter_9434765919.doc").write_bytes(b"\x00\x01" + rng.randbytes(100))
    (data / "landing" / "gp_emis" / "Z00001_Appointments_20240301.csv").write_bytes(
        appointments("M")
    )
    folder(data, "gp_emis", dt.date(2024, 3, 1)).joinpath("sub").mkdir()
    (folder(data, "gp_emis", dt.date(2024, 3, 1)) / "sub" / "x.csv").write_bytes(appointments("S"))
    (data / "landing" / "gp_emis" / "latest").mkdir()
    (data / "landing" / "gp_emis" / "latest" / "y.csv").write_bytes(appointments("L"))
    (data / "landing" / "pharmacy").mkdir()
    (data / "landing" / "pharmacy" / "dispensing.csv").write_bytes(b"a,b\n1,2\n")
    (folder(data, "acute") / "Z00001_Events_20240201.csv").write_bytes(events("W"))
    (folder(data) / "bundle.zip").write_bytes(
        zipped({"README.txt": b"Read me first\n", "Z00001_Events_20240201.csv": events("B")})
    )
    (data / "landing" / "stray.csv").write_bytes(b"x\n")
    (data / "landing" / "_manifest.json").write_text(json.dumps({"bookkeeping": True}))
    return {
        "gp_emis/2024-02-01/referral letter.pdf": "binary content",
        "gp_emis/2024-02-01/notes.csv": "is no extract's header",
        "gp_emis/2024-02-01/empty.txt": "an empty file",
        f"gp_emis/2024-02-01/letter_{WITHHELD}.doc": "binary content",
        "gp_emis/Z00001_Appointments_20240301.csv": "not in an extract-date folder",
        "gp_emis/2024-03-01/sub/x.csv": "sub-folder",
        "gp_emis/latest/y.csv": "is not an extract-date folder",
        "pharmacy/dispensing.csv": "is not a source folder",
        "acute/2024-02-01/Z00001_Events_20240201.csv": "lands in landing/gp_emis/",
        "gp_emis/2024-02-01/bundle.zip/README.txt": "is no extract's header",
        "stray.csv": "not in landing/<source>/<YYYY-MM-DD>/",
    }


def leaked(text: str, *numbers: str) -> int:
    """How many of ``numbers`` occur in ``text`` (a count: a failing assertion never prints
    the text, nor the number)."""
    return sum(n in text for n in numbers)


def test_every_foreign_file_is_audited_as_unrecognised_with_its_reason(data_dir: Path) -> None:
    expected = land_foreign_files(data_dir)
    found, recorded = account_for_landing(load_settings(), "night-1")
    audit = unrecognised_audit()
    assert recorded == audit.height == len(expected)
    rows = by_file(audit)
    assert set(rows) == set(expected), "every foreign file, none of the readable ones"
    for name, word in expected.items():
        row = rows[name]
        assert word in row["message"], (name, row["message"])
        assert (row["outcome"], row["table"]) == ("unrecognised", UNRECOGNISED_TABLE)
        assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (0, 0, 0)
    assert leaked(" ".join(audit["source_file"]) + " ".join(audit["message"]), "9434765919") == 0
    # Partitioned by the folder's extract date, or the run's date outside one: the warehouse's
    # audit.loads glob (audit/loads/*/*/*.parquet) sees them all.
    dates = dict(audit.select("source_file", "extract_date").iter_rows())
    assert dates["gp_emis/2024-02-01/notes.csv"] == DATE
    assert dates["gp_emis/2024-03-01/sub/x.csv"] == dt.date(2024, 3, 1)
    assert dates["pharmacy/dispensing.csv"] == dt.date.today()
    assert len(list((data_dir / "audit" / "loads").glob("*/*/*.parquet"))) >= 3
    # The readable files are not in it: the right one, the zip's extract member.
    assert found.by_table == {"gp_emis_appointments": 1, "gp_emis_events": 1}


def test_an_unrecognised_file_left_in_place_is_recorded_once(data_dir: Path) -> None:
    land_foreign_files(data_dir)
    settings = load_settings()
    _, first = account_for_landing(settings, "night-1")
    _, again = account_for_landing(settings, "night-2")
    assert (first, again) == (unrecognised_audit().height, 0)
    # Changed content is a new file to account for.
    (folder(data_dir) / "notes.csv").write_bytes(b"Colour,Shape\nblue,square\n")
    _, changed = account_for_landing(settings, "night-3")
    assert changed == 1
    assert unrecognised_audit().height == first + 1


def materialise_landing_accounted() -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        return dg.materialize([build_landing_accounted()], instance=instance, resources=RESOURCES)


def test_landing_accounted_fails_on_a_foreign_file_and_passes_when_it_is_gone(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    here = folder(data_dir)
    (here / GOOD_FILE).write_bytes(appointments("A"))
    (here / "referral letter.pdf").write_bytes(b"%PDF-1.4\n\x00\x01\x02binary")
    (data_dir / "landing" / "_manifest.json").write_text("{}")

    result = materialise_landing_accounted()
    assert result.success, "a stray file never fails the step, only its check"
    (check,) = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == (LANDING_ACCOUNTED, False)
    assert check.severity == dg.AssetCheckSeverity.ERROR
    listed = check.metadata["unrecognised_files"].value
    assert [x["file"] for x in listed] == ["gp_emis/2024-02-01/referral letter.pdf"]

    # The run summary names it under its own heading.
    failed = print_summary(load_settings(), [result], 1.0, data_dir)
    out = capsys.readouterr().out
    assert failed == 1
    assert "ERROR audit/unrecognised_files:landing_accounted" in out
    assert "Files in the landing area that no extract reads" in out
    assert "gp_emis/2024-02-01/referral letter.pdf: binary content" in out

    (here / "referral letter.pdf").unlink()
    (check,) = materialise_landing_accounted().get_asset_check_evaluations()
    assert check.passed
    assert check.metadata["files"].value == 1, "the bookkeeping _manifest.json is not counted"


def test_landing_accounted_is_in_the_nightly_job_and_nothing_depends_on_it() -> None:
    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly_pipeline")
    check_key = dg.AssetCheckKey(dg.AssetKey(["audit", "unrecognised_files"]), LANDING_ACCOUNTED)
    assert check_key in job.asset_layer.asset_graph.asset_check_keys
    graph = defs.resolve_asset_graph()
    children = graph.get(dg.AssetKey(["audit", "unrecognised_files"])).child_keys
    assert children <= {dg.AssetKey(["audit", "loads"])}, "only the audit zone's lineage"


# ---------------------------------------------------------------------------------------------
# Identification rules and cost
# ---------------------------------------------------------------------------------------------


def test_every_extract_header_identifies_its_own_extract_and_no_other() -> None:
    """The premise of identification by header: each extract and dialect has its own header
    (also with one column missing, the file contract's business once it is read)."""
    specs = landing.file_specs()
    for spec in specs:
        headers = [c.header for c in spec.columns]
        line = spec.delimiter.join(headers)
        assert header_fits(line, specs) == [spec], spec.table
        damaged = spec.delimiter.join(headers[:-1])
        if len(headers) > 3:
            assert header_fits(damaged, specs) == [spec], spec.table
    assert header_fits("Colour,Shape", specs) == []
    # The pipe dialect's header is not the comma dialect's.
    assert header_fits(APPT_HEADER.replace(",", "|"), specs) == []


def test_a_file_named_as_expected_is_not_opened_to_list_it(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discovery stays as cheap as before: names are matched, and only a file whose name fits
    no extract has its first bytes read (here: none)."""
    here = folder(data_dir)
    for practice in ("Z00001", "Z00002", "Z00003"):
        (here / f"{practice}_Appointments_20240201.csv").write_bytes(appointments(practice))
        (here / f"{practice}_Events_20240201.csv").write_bytes(events(practice))

    def no_reading(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("a file was read just to list it")

    monkeypatch.setattr(landing.LandedEntry, "head", no_reading)
    assert landing_dates(load_settings(), APPOINTMENTS) == [DATE]
    assert landed_dates(load_settings()) == [DATE]
    assert inventory(data_dir / "landing").by_table == {
        "gp_emis_appointments": 3,
        "gp_emis_events": 3,
    }


def test_case_management_exports_and_the_estate_manifest_are_not_unrecognised(
    data_dir: Path,
) -> None:
    export = folder(data_dir, "case_management") / "cms_export_20240201.json"
    export.write_text(json.dumps({"schema_version": 1, "referrals": []}))
    (data_dir / "landing" / "_manifest.json").write_text("{}")
    found = inventory(data_dir / "landing")
    assert found.unrecognised == []
    assert found.exports == [export]
    check = landing_accounted(found, "database")
    assert check.passed
    assert "not read" in check.metadata["case_management_exports_not_read"].value


# ---------------------------------------------------------------------------------------------
# A source that has never landed: left out of the dbt build with a note
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def manifest(dbt_manifest: Path) -> dict:
    return json.loads(dbt_manifest.read_text())


def test_a_never_landed_source_is_excluded_from_dbt_as_a_note_not_an_error(
    data_dir: Path, manifest: dict
) -> None:
    """An ICB that starts with its reference and workforce publications alone: every other
    source's models are left out (no 'No files found' error each night), as a note."""
    settings = load_settings()
    for table in ("ref_practice_mapping", "workforce_pcn_individual"):
        zones.replace_partition(settings.raw / table, DATE, pl.DataFrame({"x": [1]}))
    # An audit file (the warehouse's audit.loads has something to read).
    zones.append_to_partition(
        audit_dir(settings, UNRECOGNISED_TABLE),
        DATE,
        pl.DataFrame(schema=AUDIT_SCHEMA),
        "run-0.parquet",
    )
    failing, never = source_exclusions(manifest, "run", settings)
    assert "source:gp_emis.gp_emis_appointments+" in never
    assert "source:case_management.cms_referrals+" in never, "a database source never pulled"
    assert "source:audit.quarantine+" in never, "nothing quarantined yet: no files to read"
    assert "source:audit.loads+" not in never
    assert not any("reference.ref_practice_mapping" in s for s in never)
    assert not any("workforce" in s for s in never)
    assert failing == [], "never landed is not a failure"


def test_a_landed_source_is_not_excluded(data_dir: Path, manifest: dict) -> None:
    seed_practice_mapping(data_dir)
    (folder(data_dir) / GOOD_FILE).write_bytes(appointments("A"))
    ingest(APPOINTMENTS)
    failing, never = source_exclusions(manifest, "run", load_settings())
    assert failing == []
    assert "source:gp_emis.gp_emis_appointments+" not in never
    assert "source:gp_emis.gp_emis_events+" in never
    assert "source:audit.quarantine+" not in never, "the ingest writes its (empty) partition"


def test_a_file_gzipped_or_renamed_in_place_is_reloaded_not_lost_as_its_own_duplicate(
    data_dir: Path,
) -> None:
    """The partition is replaced whole, so the file's earlier load under its old name is
    gone: its content must be loaded again, not skipped as a copy of itself."""
    seed_practice_mapping(data_dir)
    here = folder(data_dir)
    (here / GOOD_FILE).write_bytes(appointments("A"))
    ingest(APPOINTMENTS)
    (here / GOOD_FILE).unlink()
    (here / f"{GOOD_FILE}.gz").write_bytes(gzip.compress(appointments("A")))
    settings = load_settings()
    ingest_files(settings, APPOINTMENTS, [DATE], run_id="gzipped")
    latest = zones.read_zone(audit_dir(settings, APPOINTMENTS.table)).filter(
        pl.col("run_id") == "gzipped"
    )
    assert latest.select("source_file", "outcome").rows() == [(f"{GOOD_FILE}.gz", "loaded")]
    raw = zones.read_zone(settings.raw / APPOINTMENTS.table)
    assert raw.height == 2
    assert_reconciled(latest, APPOINTMENTS.table)

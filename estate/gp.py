"""GP activity, one month at a time: appointments and coded events, in the EMIS-like and the
SystmOne-like dialects (one file per practice), with their planted defects."""

from __future__ import annotations

import numpy as np
import polars as pl

from estate.common import (
    Context,
    by_practice,
    emis_practices,
    format_days,
    gp_path,
    label,
    to_date,
)
from estate.defects import DefectPlan
from estate.exposure import GP_MULT, Exposure, draw_days

P_STATUS = [0.88, 0.05, 0.04, 0.03]
EMIS_STATUS = ["Attended", "Did Not Attend", "Cancelled by Patient", "Cancelled by Practice"]
S1_STATUS = ["Finished", "DNA", "Cancelled - Patient", "Cancelled - Unit"]
P_MODE = [0.65, 0.30, 0.03, 0.02]
EMIS_MODE = ["Face-to-Face", "Telephone", "Video Conference/Online", "Home Visit"]
S1_MODE = ["In Person", "Telephone", "Video", "Home"]
P_CLIN = [0.5, 0.25, 0.25]
EMIS_CLIN = ["GP", "Nurse", "Other Practice staff"]
S1_CLIN = ["General Medical Practitioner", "Practice Nurse", "Other"]
CATEGORIES = [
    "General Consultation Routine",
    "General Consultation Acute",
    "Clinical Triage",
    "Planned Clinics",
    "Planned Clinical Procedure",
    "Structured Medication Review",
    "Home Visit",
    "Unplanned Clinical Activity",
    "Social Prescribing Service",
    "Service provided by organisation external to the practice",
    "Care Related Encounter but does not fit into any other category",
]
P_CAT = [0.30, 0.22, 0.15, 0.10, 0.08, 0.04, 0.02, 0.03, 0.02, 0.02, 0.02]
# (concept id, term, value mean, value sd) — value mean None = no value
SNOMED = [
    ("271649006", "Systolic blood pressure", 132, 16),
    ("271650006", "Diastolic blood pressure", 80, 9),
    ("60621009", "Body mass index", 27.5, 4.5),
    ("27113001", "Body weight", 78, 15),
    ("38341003", "Hypertensive disorder, systemic arterial", None, None),
    ("44054006", "Diabetes mellitus type 2", None, None),
    ("195967001", "Asthma", None, None),
    ("35489007", "Depressive disorder", None, None),
    ("197480006", "Anxiety disorder", None, None),
    ("279039007", "Low back pain", None, None),
    ("49727002", "Cough", None, None),
    ("25064002", "Headache", None, None),
    ("77176002", "Smoker", None, None),
    ("8517006", "Ex-smoker", None, None),
    ("185389009", "Follow-up visit", None, None),
]
P_SNOMED = np.array(
    [0.14, 0.14, 0.06, 0.06, 0.06, 0.04, 0.05, 0.05, 0.05, 0.06, 0.08, 0.06, 0.04, 0.04, 0.11]
)
P_SNOMED = P_SNOMED / P_SNOMED.sum()
SP_CODES = [
    ("871731000000106", "Referral to social prescribing service"),
    ("871691000000100", "Social prescribing offered"),
    ("871711000000103", "Social prescribing declined"),
    ("1362931000000106", "Seen by social prescribing link worker"),
    ("1362721000000106", "Social prescribing case closed"),
]
# Coded events carry an index into SNOMED, then SP_CODES (offset by len(SNOMED)).
EVENT_CODES = [c[0] for c in SNOMED] + [c[0] for c in SP_CODES]
EVENT_TERMS = [c[1] for c in SNOMED] + [c[1] for c in SP_CODES]
# Social-prescribing codes carry no value: one NaN mean and zero spread per code.
EVENT_VALUE_MEANS = np.array(
    [float(c[2]) if c[2] is not None else float("nan") for c in SNOMED]
    + [float("nan")] * len(SP_CODES)
)
EVENT_VALUE_SDS = np.array(
    [float(c[3]) if c[3] is not None else 0.0 for c in SNOMED] + [0.0] * len(SP_CODES)
)

EMIS_APPOINTMENT_COLUMNS = [
    "Appointment ID",
    "Practice Code",
    "NHS Number",
    "Appointment Date",
    "Status",
    "Mode",
    "Clinician Type",
    "National Category",
]
S1_APPOINTMENT_COLUMNS = [
    "AppointmentIdentifier",
    "OrganisationCode",
    "PatientNHSNumber",
    "AppointmentDateTime",
    "AppointmentStatus",
    "DeliveryMechanism",
    "StaffType",
    "NationalSlotCategory",
]
EMIS_EVENT_COLUMNS = [
    "Event GUID",
    "Practice Code",
    "NHS Number",
    "Event Date",
    "SNOMED Code",
    "Term",
    "Value",
]
S1_EVENT_COLUMNS = [
    "RowIdentifier",
    "OrganisationCode",
    "PatientNHSNumber",
    "EventDate",
    "ConceptId",
    "Description",
    "NumericValue",
]


def draw_appointments(ctx: Context, exposure: Exposure, first_id: int) -> pl.DataFrame:
    """The month's appointments (coded: status, mode, clinician, category index), ids from
    ``first_id`` in practice, day, time order."""
    people, rng = ctx.people, ctx.rng
    who, days = draw_days(rng, people.rate_gp[exposure.people], GP_MULT, exposure)
    person = exposure.people[who]
    n = person.size
    appointments = pl.DataFrame(
        {
            "prac": people.prac[person],
            "person": person.astype(np.int64),
            "day": days,
            "status": rng.choice(4, n, p=P_STATUS).astype(np.int8),
            "mode": rng.choice(4, n, p=P_MODE).astype(np.int8),
            "clin": rng.choice(3, n, p=P_CLIN).astype(np.int8),
            "cat": rng.choice(len(CATEGORIES), n, p=P_CAT).astype(np.int8),
            "minute": (rng.integers(0, 60, n) * 10 + 480).astype(np.int32),
        }
    ).sort(["prac", "day", "minute", "person"])
    appointments = appointments.with_columns(id=pl.int_range(pl.len(), dtype=pl.Int64) + first_id)
    return appointments.with_columns(nhs=ctx.nhs_series.gather(appointments["person"]))


def write_appointments(
    ctx: Context, defects: DefectPlan, month_index: int, ext: int, appointments: pl.DataFrame
) -> None:
    orgs, rng, mi = ctx.orgs, ctx.rng, month_index
    emis = appointments.filter(pl.col("prac").is_in(emis_practices(orgs)))
    s1 = appointments.filter(~pl.col("prac").is_in(emis_practices(orgs)))
    emis = emis.with_columns(
        **{
            "Appointment ID": pl.col("id").cast(pl.String),
            "Practice Code": label("prac", orgs.prac_code),
            "NHS Number": pl.col("nhs"),
            "Appointment Date": format_days(pl.col("day"), "%d/%m/%Y"),
            "Status": label("status", EMIS_STATUS),
            "Mode": label("mode", EMIS_MODE),
            "Clinician Type": label("clin", EMIS_CLIN),
            "National Category": label("cat", CATEGORIES),
        }
    )

    def emis_path(pi: int) -> str:
        return gp_path("emis", ext, orgs.prac_code[pi], "Appointments")

    # The practice whose file lacks Mode is drawn before the bad NHS numbers, which avoid it
    # (each defective row carries one defect).
    missing_mode_practice = None
    if defects.quota("missing_mode", mi):
        missing_mode_practice = int(rng.choice(np.flatnonzero(orgs.prac_emis)))
    n_bad = defects.quota("emis_appt_bad_nhs", mi)
    if n_bad:
        candidates = np.flatnonzero(
            emis["prac"].to_numpy()
            != (missing_mode_practice if missing_mode_practice is not None else -1)
        )
        rows = np.sort(rng.choice(candidates, n_bad, replace=False))
        bad = defects.bad_nhs_numbers(n_bad)
        emis = emis.with_columns(pl.Series("NHS Number", emis["NHS Number"].scatter(rows, bad)))
        defects.record("emis_appt_bad_nhs", emis["prac"].gather(rows).to_list(), emis_path, n_bad)
    for pi, part in by_practice(orgs, emis, True).items():
        cols = EMIS_APPOINTMENT_COLUMNS
        rel = emis_path(pi)
        if pi == missing_mode_practice:
            cols = [c for c in EMIS_APPOINTMENT_COLUMNS if c != "Mode"]
            defects.record("missing_mode", [pi] * part.height, emis_path, part.height)
        ctx.writer.csv("gp_emis_appointments", rel, part.select(cols))

    def s1_path(pi: int) -> str:
        return gp_path("s1", ext, orgs.prac_code[pi], "Appointments")

    s1 = s1.with_columns(
        **{
            "AppointmentIdentifier": pl.col("id").cast(pl.String),
            "OrganisationCode": label("prac", orgs.prac_code),
            "PatientNHSNumber": pl.col("nhs"),
            "AppointmentDateTime": format_days(pl.col("day"), "%Y-%m-%d")
            + " "
            + (pl.col("minute") // 60).cast(pl.String).str.zfill(2)
            + ":"
            + (pl.col("minute") % 60).cast(pl.String).str.zfill(2)
            + ":00",
            "AppointmentStatus": label("status", S1_STATUS),
            "DeliveryMechanism": label("mode", S1_MODE),
            "StaffType": label("clin", S1_CLIN),
            "NationalSlotCategory": label("cat", CATEGORIES),
        }
    )
    n_bad = defects.quota("s1_appt_bad_date", mi)
    if n_bad:
        rows = np.sort(rng.choice(s1.height, n_bad, replace=False))
        year = to_date(ctx.calendar.bounds[mi]).year
        bad = [
            f"{year}-13-45 09:00:00" if j % 2 == 0 else f"31/02/{year} 10:00" for j in range(n_bad)
        ]
        s1 = s1.with_columns(
            pl.Series("AppointmentDateTime", s1["AppointmentDateTime"].scatter(rows, bad))
        )
        defects.record("s1_appt_bad_date", s1["prac"].gather(rows).to_list(), s1_path, n_bad)
    for pi, part in by_practice(orgs, s1, False).items():
        ctx.writer.csv(
            "gp_systmone_appointments", s1_path(pi), part.select(S1_APPOINTMENT_COLUMNS), sep="|"
        )


def draw_events(
    ctx: Context, appointments: pl.DataFrame, sp_codes: dict[str, np.ndarray], first_id: int
) -> pl.DataFrame:
    """The month's coded events: ordinary SNOMED codes at attended appointments (with a value
    for the measurements) plus ``sp_codes``, the month's social-prescribing codes (arrays
    "person", "day" and "code", an index into SP_CODES). Ids from ``first_id`` in practice,
    day order."""
    rng = ctx.rng
    attended = appointments.filter(pl.col("status") == 0).select("prac", "person", "day")
    per_appointment = rng.poisson(0.8, attended.height)
    events = (
        attended.select(pl.all().repeat_by(pl.Series(per_appointment)).explode())
        if attended.height
        else attended
    )
    events = events.with_columns(
        code=pl.Series(rng.choice(len(SNOMED), events.height, p=P_SNOMED).astype(np.int16)),
        z=pl.Series(rng.standard_normal(events.height)),
    )
    sp_events = pl.DataFrame(
        {
            "prac": ctx.people.prac[sp_codes["person"]],
            "person": sp_codes["person"].astype(np.int64),
            "day": sp_codes["day"],
            "code": (sp_codes["code"] + len(SNOMED)).astype(np.int16),
            "z": np.zeros(sp_codes["person"].size),
        }
    )
    events = pl.concat([events, sp_events.cast(events.schema)]).sort(
        ["prac", "day", "person", "code"]
    )
    events = events.with_columns(id=pl.int_range(pl.len(), dtype=pl.Int64) + first_id)
    code = events["code"].to_numpy()
    return events.with_columns(
        nhs=ctx.nhs_series.gather(events["person"]),
        snomed=label("code", EVENT_CODES),
        term=label("code", EVENT_TERMS),
        value=pl.Series(
            np.round(EVENT_VALUE_MEANS[code] + events["z"].to_numpy() * EVENT_VALUE_SDS[code], 1)
        ),
    ).with_columns(value=pl.when(pl.col("value").is_nan()).then(None).otherwise(pl.col("value")))


def write_events(
    ctx: Context,
    defects: DefectPlan,
    month_index: int,
    ext: int,
    events: pl.DataFrame,
    practice_hex: list[str],
) -> None:
    orgs, rng, mi = ctx.orgs, ctx.rng, month_index
    emis = events.filter(pl.col("prac").is_in(emis_practices(orgs)))
    s1 = events.filter(~pl.col("prac").is_in(emis_practices(orgs)))
    emis = emis.with_columns(
        **{
            "Event GUID": pl.format(
                "{}-{}-4A1C-8B2D-{}",
                label("prac", practice_hex),
                pl.lit(f"{mi:04X}"),
                pl.col("id").cast(pl.String).str.zfill(12),
            ),
            "Practice Code": label("prac", orgs.prac_code),
            "NHS Number": pl.col("nhs"),
            "Event Date": format_days(pl.col("day"), "%d/%m/%Y"),
            "SNOMED Code": pl.col("snomed"),
            "Term": pl.col("term"),
            "Value": pl.col("value"),
        }
    )

    def emis_path(pi: int) -> str:
        return gp_path("emis", ext, orgs.prac_code[pi], "Events")

    n_dup = defects.quota("emis_event_dup", mi)
    if n_dup:
        # Each duplicate sits right after the row it repeats.
        rows = np.sort(rng.choice(emis.height, n_dup, replace=False))
        dup = emis[rows]
        emis = (
            pl.concat(
                [
                    emis.with_columns(_o=pl.int_range(pl.len()) * 2),
                    dup.with_columns(_o=pl.Series(rows * 2 + 1)),
                ]
            )
            .sort("_o")
            .drop("_o")
        )
        defects.record("emis_event_dup", dup["prac"].to_list(), emis_path, n_dup)
    for pi, part in by_practice(orgs, emis, True).items():
        ctx.writer.csv("gp_emis_events", emis_path(pi), part.select(EMIS_EVENT_COLUMNS))
    s1 = s1.with_columns(
        **{
            "RowIdentifier": pl.col("id").cast(pl.String),
            "OrganisationCode": label("prac", orgs.prac_code),
            "PatientNHSNumber": pl.col("nhs"),
            "EventDate": format_days(pl.col("day"), "%Y-%m-%d"),
            "ConceptId": pl.col("snomed"),
            "Description": pl.col("term"),
            "NumericValue": pl.col("value"),
        }
    )
    for pi, part in by_practice(orgs, s1, False).items():
        ctx.writer.csv(
            "gp_systmone_events",
            gp_path("s1", ext, orgs.prac_code[pi], "CodedEvents"),
            part.select(S1_EVENT_COLUMNS),
            sep="|",
        )

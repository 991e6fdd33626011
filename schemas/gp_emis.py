"""GP practice extracts, "EMIS-like" supplier dialect: comma-delimited, dd/mm/yyyy dates,
Title Case headers. One file per practice per extract per extract date.

`data/landing/gp_emis/<extract_date>/<PRACTICE>_<Extract>_<YYYYMMDD>.csv` — one file per
practice per extract per extract date; comma-delimited, UTF-8, header row, dates `dd/mm/yyyy`.
`<Extract>` is `Registrations`, `Events`, `Appointments`.
Registrations are a full list snapshot (current and left patients) at each extract date in the
`tiny` and `demo` tiers; in `icb` and `national` the first extract date is a full snapshot and
later ones carry only registrations that started or ended in the month (manifest:
`registrations_mode`). Events and appointments are deltas: rows dated in the month before the
extract date. Ethnicity is the NHS 2001 ethnic category description (e.g. `White - British`,
`Asian or Asian British - Indian`, `Not stated`); the national category of an appointment is the
GPAD national category (e.g. `General Consultation Routine`, `Social Prescribing Service`).

GP coded events carry social-prescribing SNOMED codes (871731000000106 referral,
871691000000100 offered, 871711000000103 declined, 1362931000000106 seen by SPLW,
1362721000000106 case closed) among ordinary codes (both supplier dialects).
"""

from schemas._base import (
    LSOA_CODE,
    PRACTICE_CODE,
    SNOMED_ID,
    Col,
    ExtractSpec,
    nhs_number,
    not_before,
    one_of,
)

DMY = "%d/%m/%Y"
SEXES = ("Male", "Female", "Indeterminate", "Unknown")

registrations = ExtractSpec(
    table="gp_emis_registrations",
    source="gp_emis",
    pattern=r"^[A-Z0-9]{6}_Registrations_\d{8}\.csv$",
    description="Practice list snapshot: one row per registration (current and left patients).",
    cadence="daily",
    practice_column="practice_code",
    key=("person_id", "registered_date"),
    columns=(
        Col("Practice Code", "practice_code", rules=PRACTICE_CODE),
        nhs_number("NHS Number"),
        Col("Month Of Birth", "birth_month", dtype="month", fmt="%m/%Y", past_only=True),
        Col("Sex", "sex", rules=(("allowed_sex", one_of(SEXES)),)),
        Col("Ethnicity", "ethnicity", nullable=True),
        Col("LSOA Code", "lsoa_code", nullable=True, rules=LSOA_CODE),
        Col("Registered Date", "registered_date", dtype="date", fmt=DMY, past_only=True),
        Col("Deregistered Date", "deregistered_date", dtype="date", fmt=DMY, nullable=True),
    ),
    row_rules=(
        not_before(
            "deregistered_date", DMY, "registered_date", DMY, "deregistered_after_registered"
        ),
    ),
)

events = ExtractSpec(
    table="gp_emis_events",
    source="gp_emis",
    pattern=r"^[A-Z0-9]{6}_Events_\d{8}\.csv$",
    description="Coded clinical events (SNOMED CT): one row per event.",
    cadence="daily",
    practice_column="practice_code",
    key=("event_guid",),
    columns=(
        Col("Event GUID", "event_guid"),
        Col("Practice Code", "practice_code", rules=PRACTICE_CODE),
        nhs_number("NHS Number"),
        Col("Event Date", "event_date", dtype="date", fmt=DMY, past_only=True),
        Col("SNOMED Code", "snomed_code", rules=SNOMED_ID),
        Col("Term", "term", nullable=True),
        Col("Value", "value", dtype="float", nullable=True),
    ),
)

appointments = ExtractSpec(
    table="gp_emis_appointments",
    source="gp_emis",
    pattern=r"^[A-Z0-9]{6}_Appointments_\d{8}\.csv$",
    description="GP appointments: one row per appointment.",
    cadence="daily",
    practice_column="practice_code",
    key=("appointment_id",),
    columns=(
        Col("Appointment ID", "appointment_id"),
        Col("Practice Code", "practice_code", rules=PRACTICE_CODE),
        nhs_number("NHS Number"),
        Col("Appointment Date", "appointment_date", dtype="date", fmt=DMY),
        Col(
            "Status",
            "status",
            rules=(
                (
                    "allowed_status",
                    one_of(
                        (
                            "Attended",
                            "Did Not Attend",
                            "Cancelled by Patient",
                            "Cancelled by Practice",
                        )
                    ),
                ),
            ),
        ),
        Col(
            "Mode",
            "mode",
            rules=(
                (
                    "allowed_mode",
                    one_of(("Face-to-Face", "Telephone", "Video Conference/Online", "Home Visit")),
                ),
            ),
        ),
        Col(
            "Clinician Type",
            "clinician_type",
            rules=(("allowed_clinician_type", one_of(("GP", "Nurse", "Other Practice staff"))),),
        ),
        Col("National Category", "national_category", nullable=True),
    ),
)

EXTRACTS = (registrations, events, appointments)

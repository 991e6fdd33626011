"""GP practice extracts, "SystmOne-like" supplier dialect: pipe-delimited, ISO dates,
CamelCase headers, code letters instead of descriptions.

`data/landing/gp_systmone/<extract_date>/<PRACTICE>-<Extract>-<YYYYMMDD>.csv`; **pipe-delimited**
(`|`), UTF-8, header row, ISO dates `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS`.
`<Extract>` is `PatientList`, `CodedEvents`, `Appointments`. Same snapshot/delta rule as EMIS.
Ethnic category codes are the NHS 2001 code letters; the national slot category is the same
GPAD category list as EMIS.
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

ISO = "%Y-%m-%d"
ISO_TS = "%Y-%m-%d %H:%M:%S"
ETHNIC_CODES = tuple("ABCDEFGHJKLMNPRSZ")

registrations = ExtractSpec(
    table="gp_systmone_registrations",
    source="gp_systmone",
    pattern=r"^[A-Z0-9]{6}-PatientList-\d{8}\.csv$",
    delimiter="|",
    description="Practice list snapshot: one row per registration (current and left patients).",
    cadence="daily",
    practice_column="organisation_code",
    key=("person_id", "date_registered"),
    columns=(
        Col("OrganisationCode", "organisation_code", rules=PRACTICE_CODE),
        nhs_number("PatientNHSNumber"),
        Col("BirthYearMonth", "birth_month", dtype="month", fmt="%Y%m", past_only=True),
        Col("Gender", "gender", rules=(("allowed_sex", one_of(("M", "F", "I", "U"))),)),
        Col(
            "EthnicCategoryCode",
            "ethnic_category_code",
            nullable=True,
            rules=(("allowed_ethnic_category", one_of(ETHNIC_CODES)),),
        ),
        Col("LSOA2011", "lsoa_code", nullable=True, rules=LSOA_CODE),
        Col("DateRegistered", "date_registered", dtype="date", fmt=ISO, past_only=True),
        Col("DateDeregistered", "date_deregistered", dtype="date", fmt=ISO, nullable=True),
    ),
    row_rules=(
        not_before(
            "date_deregistered", ISO, "date_registered", ISO, "deregistered_after_registered"
        ),
    ),
)

events = ExtractSpec(
    table="gp_systmone_events",
    source="gp_systmone",
    pattern=r"^[A-Z0-9]{6}-CodedEvents-\d{8}\.csv$",
    delimiter="|",
    description="Coded clinical events (SNOMED CT): one row per event.",
    cadence="daily",
    practice_column="organisation_code",
    key=("row_identifier",),
    columns=(
        Col("RowIdentifier", "row_identifier"),
        Col("OrganisationCode", "organisation_code", rules=PRACTICE_CODE),
        nhs_number("PatientNHSNumber"),
        Col("EventDate", "event_date", dtype="date", fmt=ISO, past_only=True),
        Col("ConceptId", "concept_id", rules=SNOMED_ID),
        Col("Description", "description", nullable=True),
        Col("NumericValue", "numeric_value", dtype="float", nullable=True),
    ),
)

appointments = ExtractSpec(
    table="gp_systmone_appointments",
    source="gp_systmone",
    pattern=r"^[A-Z0-9]{6}-Appointments-\d{8}\.csv$",
    delimiter="|",
    description="GP appointments: one row per appointment.",
    cadence="daily",
    practice_column="organisation_code",
    key=("appointment_identifier",),
    columns=(
        Col("AppointmentIdentifier", "appointment_identifier"),
        Col("OrganisationCode", "organisation_code", rules=PRACTICE_CODE),
        nhs_number("PatientNHSNumber"),
        Col("AppointmentDateTime", "appointment_datetime", dtype="datetime", fmt=ISO_TS),
        Col(
            "AppointmentStatus",
            "appointment_status",
            rules=(
                (
                    "allowed_status",
                    one_of(("Finished", "DNA", "Cancelled - Patient", "Cancelled - Unit")),
                ),
            ),
        ),
        Col(
            "DeliveryMechanism",
            "delivery_mechanism",
            rules=(("allowed_mode", one_of(("In Person", "Telephone", "Video", "Home"))),),
        ),
        Col(
            "StaffType",
            "staff_type",
            rules=(
                (
                    "allowed_clinician_type",
                    one_of(("General Medical Practitioner", "Practice Nurse", "Other")),
                ),
            ),
        ),
        Col("NationalSlotCategory", "national_slot_category", nullable=True),
    ),
)

EXTRACTS = (registrations, events, appointments)

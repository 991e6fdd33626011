"""Acute activity held by the ICB (SUS-like): one file per dataset per month.

`data/landing/acute/<extract_date>/<dataset>_<YYYYMM>.csv` — one file per dataset per month
(`extract_date` = 1st of the following month), comma, UTF-8, header in UPPER_SNAKE, ISO dates;
raw columns are the headers in lower case. Admission methods 11–13 are elective, 21–28
emergency (non-elective); outpatient ATTENDED_OR_DNA 5 and 6 are attended, 2, 3, 4 and 7 not;
FIRST_ATTENDANCE 1 is a first appointment, 2 a follow-up.
"""

from schemas._base import PRACTICE_CODE, Col, ExtractSpec, matches, nhs_number, not_before, one_of

ISO = "%Y-%m-%d"

ae_attendances = ExtractSpec(
    table="acute_ae_attendances",
    source="acute",
    pattern=r"^ae_attendances_\d{6}\.csv$",
    description="A&E attendances: one row per attendance.",
    practice_column="gp_practice_code",
    key=("attendance_identifier",),
    columns=(
        Col("ATTENDANCE_IDENTIFIER", "attendance_identifier"),
        nhs_number("NHS_NUMBER"),
        Col("GP_PRACTICE_CODE", "gp_practice_code", rules=PRACTICE_CODE),
        Col("ARRIVAL_DATE", "arrival_date", dtype="date", fmt=ISO, past_only=True),
        Col(
            "DEPARTMENT_TYPE",
            "department_type",
            rules=(("allowed_department_type", one_of(("01", "02", "03", "04"))),),
        ),
        Col("ADMITTED", "admitted", rules=(("allowed_flag", one_of(("Y", "N"))),)),
    ),
)

apc_admissions = ExtractSpec(
    table="acute_apc_admissions",
    source="acute",
    pattern=r"^apc_spells_\d{6}\.csv$",
    description="Admitted patient care spells: one row per spell.",
    practice_column="gp_practice_code",
    key=("spell_identifier",),
    columns=(
        Col("SPELL_IDENTIFIER", "spell_identifier"),
        nhs_number("NHS_NUMBER"),
        Col("GP_PRACTICE_CODE", "gp_practice_code", rules=PRACTICE_CODE),
        Col("ADMISSION_DATE", "admission_date", dtype="date", fmt=ISO, past_only=True),
        Col("DISCHARGE_DATE", "discharge_date", dtype="date", fmt=ISO, nullable=True),
        Col(
            "ADMISSION_METHOD",
            "admission_method",
            rules=(
                (
                    "admission_method_code",
                    matches(
                        r"^(1[1-3]|2[1-8]|2A|2B|2C|2D|3[1-2]|8[1-3])$",
                        "an admission method code: 11-13 (elective), 21-28 or 2A-2D (emergency), "
                        "31-32 (maternity) or 81-83 (other)",
                    ),
                ),
            ),
        ),
    ),
    row_rules=(
        not_before("discharge_date", ISO, "admission_date", ISO, "discharge_after_admission"),
    ),
)

op_attendances = ExtractSpec(
    table="acute_op_attendances",
    source="acute",
    pattern=r"^op_attendances_\d{6}\.csv$",
    description="Outpatient appointments: one row per appointment.",
    practice_column="gp_practice_code",
    key=("attendance_identifier",),
    columns=(
        Col("ATTENDANCE_IDENTIFIER", "attendance_identifier"),
        nhs_number("NHS_NUMBER"),
        Col("GP_PRACTICE_CODE", "gp_practice_code", rules=PRACTICE_CODE),
        Col("APPOINTMENT_DATE", "appointment_date", dtype="date", fmt=ISO),
        Col(
            "ATTENDED_OR_DNA",
            "attended_or_dna",
            rules=(("allowed_attendance_code", one_of(("2", "3", "4", "5", "6", "7"))),),
        ),
        Col(
            "FIRST_ATTENDANCE",
            "first_attendance",
            rules=(("allowed_first_attendance", one_of(("1", "2"))),),
        ),
        Col(
            "TREATMENT_FUNCTION_CODE",
            "treatment_function_code",
            rules=(("treatment_function_code", matches(r"^[0-9]{3}$")),),
        ),
    ),
)

EXTRACTS = (ae_attendances, apc_admissions, op_attendances)

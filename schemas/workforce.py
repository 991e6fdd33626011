"""NHS Digital "Primary Care Network Workforce" individual-level CSV, in the publisher's
own layout, so the real monthly file can be dropped into the landing area unchanged.

`data/landing/workforce/<extract_date>/*.csv` — the "Primary Care Network Workforce"
individual-level CSV exactly as published (UTF-8 with BOM, CRLF), monthly, `extract_date` =
census date (last day of month). `Data_source` is `NWRS Staff` (has UNIQUE_IDENTIFIER) or
`NWRS contracted services` (FTE only, no identifier). SPLWs are STAFF_ROLE `Social Prescribing
Link Workers` and `Social Prescribing Link Workers (Mental Health Practitioners)`.
UNIQUE_IDENTIFIER is already a staff pseudonym (not a patient identifier) and is kept.
"""

from schemas._base import PCN_CODE, Col, ExtractSpec, matches, one_of

SPLW_ROLES = (
    "Social Prescribing Link Workers",
    "Social Prescribing Link Workers (Mental Health Practitioners)",
)

pcn_individual = ExtractSpec(
    table="workforce_pcn_individual",
    source="workforce",
    pattern=r"(?i)^.*individual.level.*\.csv$",
    description="PCN workforce census: one row per staff member × role (NWRS Staff) or contracted service line.",
    cadence="monthly",
    quarantine_rate_warn=0.01,
    identical_rows_are_records=True,
    columns=(
        Col(
            "Data_source",
            "data_source",
            rules=(("allowed_data_source", one_of(("NWRS Staff", "NWRS contracted services"))),),
        ),
        Col("CENSUS_YEAR", "census_year", dtype="int"),
        Col(
            "CENSUS_MONTH",
            "census_month",
            dtype="int",
            rules=(("month_number", matches(r"^(0?[1-9]|1[0-2])$", "a month number, 1 to 12")),),
        ),
        Col("PCN_CODE", "pcn_code", rules=PCN_CODE),
        Col("PCN_NAME", "pcn_name", nullable=True),
        Col("SUB_ICB_CODE", "sub_icb_code", nullable=True),
        Col("SUB_ICB_NAME", "sub_icb_name", nullable=True),
        Col("ICB_CODE", "icb_code", nullable=True),
        Col("ICB_NAME", "icb_name", nullable=True),
        Col("COMM_REGION_CODE", "comm_region_code", nullable=True),
        Col("COMM_REGION_NAME", "comm_region_name", nullable=True),
        Col("STAFF_GROUP", "staff_group", nullable=True),
        Col("STAFF_ROLE", "staff_role"),
        Col("DETAILED_STAFF_ROLE", "detailed_staff_role", nullable=True),
        Col("FTE", "fte", dtype="float"),
        # A staff pseudonym assigned by NHS Digital, not a patient identifier: kept as is.
        Col("UNIQUE_IDENTIFIER", "unique_identifier", nullable=True),
    ),
)

EXTRACTS = (pcn_individual,)

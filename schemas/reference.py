"""Reference data in NHS England's published layouts (practice mapping, registered patients by
age and sex) and the English Indices of Deprivation 2019 (File 1 layout).

`data/landing/reference/<extract_date>/` (monthly, 1st of month). The publications'
EXTRACT_DATE becomes the raw column `extract_date_published`, because `extract_date` is the
partition column. In the practice mapping PCN_CODE `U` = unallocated; successive monthly
snapshots give practice→PCN validity intervals. `imd2019_lsoa.csv` lands on the first extract
date only.
"""

from schemas._base import LSOA_CODE, PCN_CODE, PRACTICE_CODE, Col, ExtractSpec, matches, one_of

practice_mapping = ExtractSpec(
    table="ref_practice_mapping",
    source="reference",
    pattern=r"^gp-reg-pat-prac-map\.csv$",
    description="Practice → PCN → sub-ICB → ICB → region, as published monthly: one row per practice per extract.",
    key=("practice_code",),
    quarantine_rate_warn=0.001,
    columns=(
        Col("PUBLICATION", "publication"),
        Col("EXTRACT_DATE", "extract_date_published", dtype="date", fmt="%d%b%Y"),
        Col("PRACTICE_CODE", "practice_code", rules=PRACTICE_CODE),
        Col("PRACTICE_NAME", "practice_name"),
        Col("PRACTICE_POSTCODE", "practice_postcode", nullable=True),
        Col("PCN_CODE", "pcn_code", rules=PCN_CODE),
        Col("PCN_NAME", "pcn_name", nullable=True),
        Col("ONS_SUB_ICB_LOCATION_CODE", "ons_sub_icb_location_code", nullable=True),
        Col("SUB_ICB_LOCATION_CODE", "sub_icb_location_code"),
        Col("SUB_ICB_LOCATION_NAME", "sub_icb_location_name", nullable=True),
        Col("ONS_ICB_CODE", "ons_icb_code", nullable=True),
        Col("ICB_CODE", "icb_code"),
        Col("ICB_NAME", "icb_name", nullable=True),
        Col("ONS_COMM_REGION_CODE", "ons_comm_region_code", nullable=True),
        Col("COMM_REGION_CODE", "comm_region_code", nullable=True),
        Col("COMM_REGION_NAME", "comm_region_name", nullable=True),
        Col("SUPPLIER_NAME", "supplier_name", nullable=True),
    ),
)

AGE_GROUPS = ("ALL", *(f"{a}_{a + 4}" for a in range(0, 95, 5)), "95+")

registered_patients = ExtractSpec(
    table="ref_registered_patients",
    source="reference",
    pattern=r"^gp-reg-pat-prac-quin-age\.csv$",
    description="Registered patients by organisation × sex × 5-year age band, as published monthly.",
    key=("org_type", "org_code", "sex", "age_group_5"),
    quarantine_rate_warn=0.001,
    columns=(
        Col("PUBLICATION", "publication"),
        Col("EXTRACT_DATE", "extract_date_published", dtype="date", fmt="%Y-%m-%d"),
        Col(
            "ORG_TYPE",
            "org_type",
            rules=(
                (
                    "allowed_org_type",
                    one_of(("GP", "PCN", "SUB_ICB_LOCATION_CODE", "ICB", "Comm Region")),
                ),
            ),
        ),
        Col("ORG_CODE", "org_code"),
        Col("ONS_CODE", "ons_code", nullable=True),
        Col("POSTCODE", "postcode", nullable=True),
        Col("SEX", "sex", rules=(("allowed_sex", one_of(("ALL", "MALE", "FEMALE"))),)),
        Col("AGE_GROUP_5", "age_group_5", rules=(("allowed_age_group", one_of(AGE_GROUPS)),)),
        Col("NUMBER_OF_PATIENTS", "number_of_patients", dtype="bigint"),
    ),
)

imd_lsoa = ExtractSpec(
    table="ref_imd_lsoa",
    source="reference",
    pattern=r"^imd2019_lsoa\.csv$",
    description="English Indices of Deprivation 2019 by LSOA (2011): one row per LSOA.",
    key=("lsoa_code",),
    quarantine_rate_warn=0.001,
    columns=(
        Col("LSOA code (2011)", "lsoa_code", rules=LSOA_CODE),
        Col("LSOA name (2011)", "lsoa_name", nullable=True),
        Col("Local Authority District code (2019)", "lad_code", nullable=True),
        Col("Local Authority District name (2019)", "lad_name", nullable=True),
        Col("Index of Multiple Deprivation (IMD) Rank", "imd_rank", dtype="int"),
        Col(
            "Index of Multiple Deprivation (IMD) Decile",
            "imd_decile",
            dtype="int",
            rules=(("decile_1_to_10", matches(r"^([1-9]|10)$", "a decile, 1 to 10")),),
        ),
    ),
)

EXTRACTS = (practice_mapping, registered_patients, imd_lsoa)

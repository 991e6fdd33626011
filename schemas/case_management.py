"""Social prescribing case-management system. Pulled from its reporting database over
SQLAlchemy (or read from its JSON export); column names are the database's own.

**Reporting database** (pulled over SQLAlchemy; URL from `SP_CMS_URL`, the estate writes a SQLite
file at `data/sources/case_management/cms_reporting.sqlite`). The raw-zone tables `cms_<table>`
have the database's column names, `nhs_number` replaced by `person_id`. `referral_reasons` is
`;`-separated (Loneliness or isolation, Low mood or anxiety, Financial, Housing, Physical
inactivity, Long-term condition, Carer support, Bereavement); `organisation_name` of an onward
referral is the VCSE organisation; outcome scores are SWEMWBS raw sums, ONS4 items and UCLA-3
sums.

Needs and concerns (`referral_needs`) and support offered (`support_offers`) are the Social
Prescribing Information Standard's repeating elements. The referrer's reasons
(`referrals.referral_reasons`) arrive as `Referrer` needs; a link worker adds what the person
raises later. The activities referred to are `onward_referrals`. These two tables are optional in
the reporting database: a system that predates the standard has neither, and the pull then loads
the other tables and names the absent ones (a warning in the run, `table_absent` on the raw
asset's materialisation); nothing depending on them is built until they have rows. Sources for
the sections and value sets: docs/methods.md ("The pathway and the Social Prescribing
Information Standard").

`extract_date` = the first day of the rows' change month (`last_modified`): one partition per
change month, replaced whole by each pull (from JSON exports: the export's date folder).

**JSON export** (for systems that only export files):
`data/landing/case_management/<extract_date>/cms_export_<YYYYMMDD>.json` —
`{"schema_version": 1, "generated_at": "...", "referrals": [ {<referral columns>,
"contacts": [...], "onward_referrals": [...], "outcome_measures": [...],
"referral_needs": [...], "support_offers": [...]} ]}` with the same column names as the
database (children without `referral_id`, which is implied; a kind of child an export does not
carry loads no rows).
Every export in one date folder is loaded together (one partition per table, one audit row per
export and table: `<file>#<table>`), so two exports of a day add up. An export that cannot be
parsed (invalid JSON, no top-level `referrals` list) is quarantined whole as one
`unreadable_file` row of `cms_referrals` (its records cannot be counted), with a message naming
the file and the reason; the other exports still load.
"""

import polars as pl

from schemas._base import (
    PRACTICE_CODE,
    Col,
    EpisodeRule,
    ExtractSpec,
    RowRule,
    nhs_number,
    not_before,
    one_of,
)

ISO = "%Y-%m-%d"
TS = None  # ISO timestamps; databases disagree on 'T' vs ' ', so let the parser infer

REFERRER_TYPES = (
    "GP",
    "Practice nurse",
    "Other practice staff",
    "Self-referral",
    "VCSE",
    "Secondary care",
    "Social care",
)
STATUSES = ("Open", "Discharged", "Declined", "Did not engage")

referrals = ExtractSpec(
    table="cms_referrals",
    source="case_management",
    pattern=r"^referrals$",
    description="Referrals to the social prescribing service: one row per referral.",
    cadence="daily",
    practice_column="practice_code",
    key=("referral_id",),
    columns=(
        Col("referral_id", "referral_id"),
        nhs_number("nhs_number"),
        Col("practice_code", "practice_code", rules=PRACTICE_CODE),
        Col("referral_date", "referral_date", dtype="date", fmt=ISO, past_only=True),
        Col(
            "referrer_type",
            "referrer_type",
            rules=(("allowed_referrer_type", one_of(REFERRER_TYPES)),),
        ),
        Col("referral_reasons", "referral_reasons", nullable=True),
        Col("status", "status", rules=(("allowed_referral_status", one_of(STATUSES)),)),
        Col("first_contact_date", "first_contact_date", dtype="date", fmt=ISO, nullable=True),
        Col("sessions", "sessions", dtype="int", nullable=True),
        Col("discharge_date", "discharge_date", dtype="date", fmt=ISO, nullable=True),
        Col("discharge_reason", "discharge_reason", nullable=True),
        Col("last_modified", "last_modified", dtype="datetime", fmt=TS),
    ),
    row_rules=(
        not_before("discharge_date", ISO, "referral_date", ISO, "discharge_after_referral"),
        not_before("first_contact_date", ISO, "referral_date", ISO, "first_contact_after_referral"),
    ),
)

contacts = ExtractSpec(
    table="cms_contacts",
    source="case_management",
    pattern=r"^contacts$",
    description="Link-worker contacts: one row per contact.",
    cadence="daily",
    key=("contact_id",),
    columns=(
        Col("contact_id", "contact_id"),
        Col("referral_id", "referral_id"),
        Col("contact_date", "contact_date", dtype="date", fmt=ISO, past_only=True),
        Col(
            "contact_type",
            "contact_type",
            rules=(
                ("allowed_contact_type", one_of(("Face to face", "Telephone", "Video", "Group"))),
            ),
        ),
        Col("duration_minutes", "duration_minutes", dtype="int", nullable=True),
        Col("last_modified", "last_modified", dtype="datetime", fmt=TS),
    ),
)

onward_referrals = ExtractSpec(
    table="cms_onward_referrals",
    source="case_management",
    pattern=r"^onward_referrals$",
    description="Onward referrals to community activities: one row per onward referral.",
    cadence="daily",
    key=("onward_referral_id",),
    columns=(
        Col("onward_referral_id", "onward_referral_id"),
        Col("referral_id", "referral_id"),
        Col("onward_referral_date", "onward_referral_date", dtype="date", fmt=ISO, past_only=True),
        Col(
            "activity_category",
            "activity_category",
            rules=(
                (
                    "allowed_activity_category",
                    one_of(
                        (
                            "Arts and culture",
                            "Physical activity",
                            "Nature and green",
                            "Befriending",
                            "Advice and advocacy",
                            "Learning and skills",
                            "Volunteering",
                            "Peer support",
                        )
                    ),
                ),
            ),
        ),
        Col("organisation_name", "organisation_name", nullable=True),
        Col(
            "attended",
            "attended",
            dtype="int",
            nullable=True,
            rules=(("allowed_flag", one_of(("0", "1"))),),
        ),
        Col("last_modified", "last_modified", dtype="datetime", fmt=TS),
    ),
)

# Valid totals per measure: SWEMWBS is the raw sum of 7 items scored 1-5; each ONS4 item is
# 0-10 on its own; UCLA-3 is the sum of 3 items scored 1-3.
MEASURE_RANGES = {
    "SWEMWBS": (7, 35),
    "ONS4_LIFE_SATISFACTION": (0, 10),
    "ONS4_WORTHWHILE": (0, 10),
    "ONS4_HAPPINESS": (0, 10),
    "ONS4_ANXIETY": (0, 10),
    "UCLA3": (3, 9),
}
MEASURES = tuple(MEASURE_RANGES)


def _score_in_measure_range() -> pl.Expr:
    # An unknown measure or an unparseable score yields null here: those rows are reported by
    # allowed_measure / number_parse, not twice.
    score = pl.col("score").str.strip_chars().cast(pl.Int64, strict=False)
    code = pl.col("measure_code")
    low = code.replace_strict(
        {m: lo for m, (lo, _) in MEASURE_RANGES.items()}, default=None, return_dtype=pl.Int64
    )
    high = code.replace_strict(
        {m: hi for m, (_, hi) in MEASURE_RANGES.items()}, default=None, return_dtype=pl.Int64
    )
    return score.is_between(low, high)


outcome_measures = ExtractSpec(
    table="cms_outcome_measures",
    source="case_management",
    pattern=r"^outcome_measures$",
    description="Outcome measure totals recorded at baseline and follow-up: one row per measure × timepoint.",
    cadence="daily",
    key=("outcome_id",),
    columns=(
        Col("outcome_id", "outcome_id"),
        Col("referral_id", "referral_id"),
        Col("measure_code", "measure_code", rules=(("allowed_measure", one_of(MEASURES)),)),
        Col(
            "timepoint",
            "timepoint",
            rules=(("allowed_timepoint", one_of(("baseline", "follow_up"))),),
        ),
        Col("recorded_date", "recorded_date", dtype="date", fmt=ISO, past_only=True),
        Col("score", "score", dtype="int", nullable=True),
        Col("last_modified", "last_modified", dtype="datetime", fmt=TS),
    ),
    row_rules=(
        RowRule(
            "score_in_measure_range",
            ("measure_code", "score"),
            _score_in_measure_range,
            description="`score` lies in its `measure_code`'s range: "
            + ", ".join(f"{m} {lo}-{hi}" for m, (lo, hi) in MEASURE_RANGES.items())
            + " (an empty score passes)",
        ),
    ),
    episode_rules=(
        EpisodeRule(
            name="follow_up_after_baseline",
            episode=("referral_id", "measure_code"),
            timepoint="timepoint",
            earlier="baseline",
            later="follow_up",
            date="recorded_date",
            fmt=ISO,
        ),
    ),
)

# The Social Prescribing Information Standard (PRSB; an information standard notice since
# January 2023, owned by NHS England from January 2026) has a minimum dataset of demographics,
# needs and concerns, support offered (including referred-to activities) and outcomes. Needs and
# concerns and support offered repeat within a referral, so each is a table of its own: one row
# per referral x need, one per referral x support. The labels are this system's value sets
# (the standard's SNOMED CT refsets are issued by NHS England on request; estate/cms.py holds
# the same lists). Referred-to activities are onward_referrals; outcomes, outcome_measures.
NEEDS = (
    "Loneliness or isolation",
    "Low mood or anxiety",
    "Financial",
    "Housing",
    "Physical inactivity",
    "Long-term condition",
    "Carer support",
    "Bereavement",
    "Employment or learning",
    "Relationships",
)
NEED_IDENTIFIED_BY = ("Referrer", "Link worker")
SUPPORT_TYPES = (
    "Personalised care and support plan",
    "Information and signposting",
    "Emotional support",
    "Practical help",
    "Referral to community activity",
    "Referral to statutory service",
)

referral_needs = ExtractSpec(
    table="cms_referral_needs",
    source="case_management",
    pattern=r"^referral_needs$",
    description="Needs and concerns (Social Prescribing Information Standard): one row per "
    "referral x need or concern, as the referrer gave it or the link worker recorded it.",
    cadence="daily",
    key=("need_id",),
    columns=(
        Col("need_id", "need_id"),
        Col("referral_id", "referral_id"),
        Col("need", "need", rules=(("allowed_need", one_of(NEEDS)),)),
        Col(
            "identified_by",
            "identified_by",
            rules=(("allowed_need_identified_by", one_of(NEED_IDENTIFIED_BY)),),
        ),
        Col("identified_date", "identified_date", dtype="date", fmt=ISO, past_only=True),
        Col("last_modified", "last_modified", dtype="datetime", fmt=TS),
    ),
)

support_offers = ExtractSpec(
    table="cms_support_offers",
    source="case_management",
    pattern=r"^support_offers$",
    description="Support offered (Social Prescribing Information Standard): one row per "
    "referral x kind of support offered.",
    cadence="daily",
    key=("support_id",),
    columns=(
        Col("support_id", "support_id"),
        Col("referral_id", "referral_id"),
        Col(
            "support_type", "support_type", rules=(("allowed_support_type", one_of(SUPPORT_TYPES)),)
        ),
        Col("offered_date", "offered_date", dtype="date", fmt=ISO, past_only=True),
        Col("last_modified", "last_modified", dtype="datetime", fmt=TS),
    ),
)

EXTRACTS = (
    referrals,
    contacts,
    onward_referrals,
    outcome_measures,
    referral_needs,
    support_offers,
)
# The JSON export nests these under each referral; the database holds them as tables.
DB_TABLES = {
    "referrals": referrals,
    "contacts": contacts,
    "onward_referrals": onward_referrals,
    "outcome_measures": outcome_measures,
    "referral_needs": referral_needs,
    "support_offers": support_offers,
}
# Tables a reporting database of a system that predates the standard does not have: the pull
# loads the others and says these are absent, rather than failing the whole source.
OPTIONAL_DB_TABLES = frozenset({"referral_needs", "support_offers"})

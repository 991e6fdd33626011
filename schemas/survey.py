"""Survey-tool exports: question text as headers, Likert labels as answers. Headers are
matched loosely (case, punctuation, curly quotes, spacing) because exports drift.

CSV exports with question text as headers and Likert labels as text; comma, UTF-8 (one planted
file is cp1252), dates `dd/mm/yyyy HH:MM`. Wellbeing responses land under
`data/landing/survey_wellbeing/<extract_date>/`, the clinician training survey under
`data/landing/survey_clinician/<extract_date>/` (one file per wave, `pre` or `post`).
The wellbeing `Client reference` is the case-management referral id. Its question columns are
the SWEMWBS items (`swemwbs_1`…`swemwbs_7`), the ONS4 items (integers 0–10 as text) and the
UCLA-3 items (`ucla3_1`…`ucla3_3`); a blank item means an incomplete response (kept, not scored
later). The clinician survey's `Role` is free text as the tool sends it (the estate writes GP,
Nurse, Practice staff, Pharmacist).
"""

from schemas._base import PRACTICE_CODE, Col, EpisodeRule, ExtractSpec, nhs_number, one_of

SUBMITTED = "%d/%m/%Y %H:%M"
FREQUENCY = {
    "None of the time": 1,
    "Rarely": 2,
    "Some of the time": 3,
    "Often": 4,
    "All of the time": 5,
}
UCLA = {"Hardly ever": 1, "Some of the time": 2, "Often": 3}
AGREEMENT = {
    "Strongly disagree": 1,
    "Disagree": 2,
    "Neither agree nor disagree": 3,
    "Agree": 4,
    "Strongly agree": 5,
}
ONS4 = {str(i): i for i in range(11)}

SWEMWBS_ITEMS = (
    ("I've been feeling optimistic about the future", "swemwbs_1"),
    ("I've been feeling useful", "swemwbs_2"),
    ("I've been feeling relaxed", "swemwbs_3"),
    ("I've been dealing with problems well", "swemwbs_4"),
    ("I've been thinking clearly", "swemwbs_5"),
    ("I've been feeling close to other people", "swemwbs_6"),
    ("I've been able to make up my own mind about things", "swemwbs_7"),
)
ONS4_ITEMS = (
    ("Overall, how satisfied are you with your life nowadays?", "ons4_life_satisfaction"),
    (
        "Overall, to what extent do you feel that the things you do in your life are worthwhile?",
        "ons4_worthwhile",
    ),
    ("Overall, how happy did you feel yesterday?", "ons4_happiness"),
    ("Overall, how anxious did you feel yesterday?", "ons4_anxiety"),
)
UCLA3_ITEMS = (
    ("How often do you feel that you lack companionship?", "ucla3_1"),
    ("How often do you feel left out?", "ucla3_2"),
    ("How often do you feel isolated from others?", "ucla3_3"),
)

wellbeing_responses = ExtractSpec(
    table="survey_wellbeing_responses",
    source="survey_wellbeing",
    pattern=r"^wellbeing_responses_\d{8}\.csv$",
    description="Wellbeing questionnaires (SWEMWBS, ONS4, UCLA-3): one row per response.",
    fuzzy_headers=True,
    key=("response_id",),
    columns=(
        Col("Response ID", "response_id"),
        Col("Submitted", "submitted_at", dtype="datetime", fmt=SUBMITTED, past_only=True),
        Col("Client reference", "referral_id", nullable=True),
        nhs_number("NHS number"),
        Col(
            "Timepoint",
            "timepoint",
            rules=(("allowed_timepoint", one_of(("Baseline", "Follow-up"))),),
        ),
        # A blank item is an incomplete response: kept, and not scored downstream. A tool that
        # exports only some instruments leaves the others' columns out: they are simply empty.
        *(
            Col(q, code, nullable=True, value_map=FREQUENCY, required=False)
            for q, code in SWEMWBS_ITEMS
        ),
        *(Col(q, code, nullable=True, value_map=ONS4, required=False) for q, code in ONS4_ITEMS),
        *(Col(q, code, nullable=True, value_map=UCLA, required=False) for q, code in UCLA3_ITEMS),
    ),
    # One questionnaire covers every instrument, so the episode is the client's referral.
    episode_rules=(
        EpisodeRule(
            name="follow_up_after_baseline",
            episode=("referral_id",),
            timepoint="timepoint",
            earlier="Baseline",
            later="Follow-up",
            date="submitted_at",
            dtype="datetime",
            fmt=SUBMITTED,
        ),
    ),
)

clinician_training = ExtractSpec(
    table="survey_clinician_training",
    source="survey_clinician",
    pattern=r"^clinician_training_(pre|post)_\d{8}\.csv$",
    description="Clinician pre- and post-training survey: one row per response.",
    fuzzy_headers=True,
    practice_column="practice_code",
    key=("response_id",),
    columns=(
        Col("Response ID", "response_id"),
        Col("Submitted", "submitted_at", dtype="datetime", fmt=SUBMITTED, past_only=True),
        Col("Practice code", "practice_code", rules=PRACTICE_CODE),
        Col("Role", "role", nullable=True),
        Col(
            "Survey wave",
            "wave",
            rules=(("allowed_wave", one_of(("Pre-training", "Post-training"))),),
        ),
        Col(
            "I understand the role of a social prescribing link worker",
            "knowledge_role",
            nullable=True,
            value_map=AGREEMENT,
        ),
        Col(
            "I know how to refer a patient to the social prescribing service",
            "knowledge_referral",
            nullable=True,
            value_map=AGREEMENT,
        ),
        Col(
            "I am confident identifying patients who would benefit from social prescribing",
            "confidence_identify",
            nullable=True,
            value_map=AGREEMENT,
        ),
        Col(
            "I am confident discussing social prescribing with patients",
            "confidence_discuss",
            nullable=True,
            value_map=AGREEMENT,
        ),
        Col("What, if anything, stops you referring patients?", "barriers", nullable=True),
    ),
)

EXTRACTS = (wellbeing_responses, clinician_training)

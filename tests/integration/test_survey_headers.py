"""Survey-tool exports drift: question text changes case, punctuation, quotes and spacing, and
columns move. The maintained mapping in schemas/survey.py must still find every item, turn
Likert labels into scores, and report questions it does not know."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

import schemas
from orchestration.lib import zones
from orchestration.lib.ingest import audit_dir, ingest_files
from orchestration.lib.settings import load_settings

SPEC = schemas.EXTRACTS["survey_wellbeing_responses"]
DATE = dt.date(2024, 2, 1)


def test_drifted_headers_map_and_labels_score(data_dir: Path) -> None:
    headers = [
        "NHS number",
        "Response ID",
        "submitted",
        "Client Reference",
        "TIMEPOINT",
        "I\u2019ve been feeling optimistic about the future",  # curly apostrophe
        "ive been feeling useful",  # punctuation dropped
        "  I've been feeling   relaxed  ",  # stray spaces
        "I've been dealing with problems well.",
        "I've been thinking clearly",
        "I've been feeling close to other people",
        "I've been able to make up my own mind about things",
        *(q.upper() for q, _ in schemas.survey.ONS4_ITEMS),
        *(q for q, _ in schemas.survey.UCLA3_ITEMS),
        "How did you hear about us?",  # not in the mapping
    ]
    values = [
        "9434765919",
        "W1",
        "03/01/2024 10:15",
        "R1",
        "Baseline",
        "None of the time",
        "Rarely",
        "Some of the time",
        "Often",
        "All of the time",
        "Often",
        "Rarely",
        "7",
        "8",
        "6",
        "3",
        "Hardly ever",
        "Some of the time",
        "Often",
        "Poster",
    ]
    folder = data_dir / "landing" / "survey_wellbeing" / DATE.isoformat()
    folder.mkdir(parents=True)
    (folder / "wellbeing_responses_20240201.csv").write_text(
        ",".join(f'"{h}"' for h in headers) + "\n" + ",".join(values) + "\n"
    )

    (result,) = ingest_files(load_settings(), SPEC, [DATE], run_id="survey")

    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    row = zones.read_zone(load_settings().raw / SPEC.table).row(0, named=True)
    assert [row[f"swemwbs_{i}"] for i in range(1, 8)] == [1, 2, 3, 4, 5, 4, 2]
    assert (row["ons4_life_satisfaction"], row["ons4_anxiety"]) == (7, 3)
    assert (row["ucla3_1"], row["ucla3_2"], row["ucla3_3"]) == (1, 2, 3)
    assert row["referral_id"] == "R1" and len(row["person_id"]) == 64
    audit = zones.read_zone(audit_dir(load_settings(), SPEC.table))
    assert "How did you hear about us?" in audit["message"][0], "unknown questions are reported"


def test_a_blank_item_is_kept_as_an_incomplete_response(data_dir: Path) -> None:
    headers = [
        "Response ID",
        "Submitted",
        "Client reference",
        "NHS number",
        "Timepoint",
        *(q for q, _ in schemas.survey.SWEMWBS_ITEMS),
    ]
    values = [
        "W2",
        "03/01/2024 10:15",
        "R1",
        "9434765919",
        "Follow-up",
        "Often",
        "",
        "Often",
        "Often",
        "Often",
        "Often",
        "Often",
    ]
    folder = data_dir / "landing" / "survey_wellbeing" / DATE.isoformat()
    folder.mkdir(parents=True)
    (folder / "wellbeing_responses_20240201.csv").write_text(
        ",".join(f'"{h}"' for h in headers) + "\n" + ",".join(values) + "\n"
    )
    (result,) = ingest_files(load_settings(), SPEC, [DATE], run_id="survey")
    raw = zones.read_zone(load_settings().raw / SPEC.table)
    assert result.rows_loaded == 1
    assert raw["swemwbs_2"].to_list() == [None] and raw["ons4_anxiety"].to_list() == [None]
    assert raw.select(pl.col("swemwbs_1")).item() == 4

"""Survey-tool exports: wellbeing questionnaires and the clinician training survey."""

from orchestration.lib.source_defs import file_source_definitions
from schemas import survey

defs = file_source_definitions(survey.EXTRACTS)

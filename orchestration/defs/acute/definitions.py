"""Acute activity (SUS-like monthly files)."""

from orchestration.lib.source_defs import file_source_definitions
from schemas import acute

defs = file_source_definitions(acute.EXTRACTS)

"""Reference data: practice mapping, registered patients, deprivation."""

from orchestration.lib.source_defs import file_source_definitions
from schemas import reference

defs = file_source_definitions(reference.EXTRACTS)

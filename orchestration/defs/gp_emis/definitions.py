"""GP practice extracts, EMIS-like dialect."""

from orchestration.lib.source_defs import file_source_definitions
from schemas import gp_emis

defs = file_source_definitions(gp_emis.EXTRACTS)

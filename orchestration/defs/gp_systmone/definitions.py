"""GP practice extracts, SystmOne-like dialect."""

from orchestration.lib.source_defs import file_source_definitions
from schemas import gp_systmone

defs = file_source_definitions(gp_systmone.EXTRACTS)

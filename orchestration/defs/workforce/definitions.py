"""PCN workforce returns (NHS Digital individual-level CSV)."""

from orchestration.lib.source_defs import file_source_definitions
from schemas import workforce

defs = file_source_definitions(workforce.EXTRACTS)

"""pandera schemas: the single definition of a valid landed row, one module per source.

pandera checks the *shape* of each row (types, formats, code lists, ranges, cross-field order);
business rules that span tables (referential integrity, plausibility over time) are dbt tests.
"""

from schemas import acute, case_management, gp_emis, gp_systmone, reference, survey, workforce
from schemas._base import ExtractSpec

EXTRACTS: dict[str, ExtractSpec] = {
    spec.table: spec
    for module in (reference, gp_emis, gp_systmone, acute, case_management, survey, workforce)
    for spec in module.EXTRACTS
}

__all__ = ["EXTRACTS", "ExtractSpec"]

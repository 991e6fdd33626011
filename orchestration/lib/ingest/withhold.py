"""Keeping NHS-number-like values out of the quarantine and the audit.

Identifier columns are pseudonymised; this is for every other place an NHS number can turn up
(swapped or shifted columns, a headerless file's first row taken for its header).
"""

from __future__ import annotations

import polars as pl

# An NHS number as people write it: 10 digits, or 3-3-4 with spaces or dashes, not part of a
# longer digit run. Rust's regex has no look-around, so the neighbouring non-digit (or the end
# of the text) is captured and put back; see withhold_identifiers for why two passes.
NHS_LIKE = r"(^|\D)\d{3}[ -]?\d{3}[ -]?\d{4}(\D|$)"
WITHHELD = "<withheld: 10-digit identifier>"


def withhold_identifiers(text: pl.Expr) -> pl.Expr:
    """Replace every NHS-number-like token in ``text`` by a marker.

    Swapped or shifted columns put NHS numbers into columns that are not declared identifiers,
    and a headerless file turns its first data row into column names; neither may reach the
    quarantine or the audit. The pattern consumes the non-digit on each side of a match, so two
    tokens one character apart need a second pass (a token missed by the first pass always
    follows a replaced one, so a third is never needed)."""
    replacement = "${1}" + WITHHELD + "${2}"
    return text.str.replace_all(NHS_LIKE, replacement).str.replace_all(NHS_LIKE, replacement)

"""The record layout of a CSV body, counted over its bytes: fields per record, whether the
quoting is well formed, and the rows whose shape is wrong (ragged or truncated).

Counted by numpy with no Python loop over lines and no second parse; the parser's row count is
checked against it (orchestration.lib.ingest.parse).
"""

from __future__ import annotations

import numpy as np
import polars as pl


def physical_lines(body: bytes) -> int:
    """Lines in the file, a last line without a newline included (counted in C, not Python)."""
    return body.count(b"\n") + (0 if body.endswith(b"\n") else 1)


def first_line(body: bytes) -> bytes:
    """The first line, without its line break (a split would copy the rest of the file)."""
    end = body.find(b"\n")
    return body if end < 0 else body[:end]


def record_field_counts(body: bytes, delimiter: str) -> pl.Series:
    """Fields per CSV record, header first (see record_layout)."""
    return record_layout(body, delimiter)[0]


def record_layout(body: bytes, delimiter: str) -> tuple[pl.Series, bool]:
    """Fields per CSV record, header first, counted by numpy over the bytes (no Python loop
    over lines, no second parse); and whether the quoting is well formed.

    A quote character toggles "inside quotes"; delimiters and line breaks inside quotes belong to
    their field (an escaped quote `""` toggles twice, changing nothing). A record ends at a line
    break outside quotes; its fields are its delimiters outside quotes + 1. A last line without
    a newline is a record; a newline at the very end opens none. Should the quoting defeat this
    reasoning, the record count disagrees with the parser's and the caller treats the file as
    unreadable.

    Well formed means RFC 4180 quoting, which any CSV parser reads the same way: every quote
    that opens a quoted part starts a field (or follows the quote it escapes), every one that
    closes it ends a field (or precedes such a quote), and none is left open at the end. Then
    the records are exactly those counted here, wherever the file's bytes are placed.
    """
    data = np.frombuffer(body, dtype=np.uint8)
    # Positions rather than masks: quotes, line breaks and delimiters are few next to the bytes,
    # and whether one lies inside quotes is the parity of the quotes before it (a binary search).
    ends = np.flatnonzero(data == ord("\n"))
    delims = np.flatnonzero(data == ord(delimiter))
    well_formed = True
    if b'"' in body:
        quotes = np.flatnonzero(data == ord('"'))
        ends = ends[np.searchsorted(quotes, ends) % 2 == 0]
        delims = delims[np.searchsorted(quotes, delims) % 2 == 0]
        opens, closes = quotes[0::2], quotes[1::2]
        before = data[np.maximum(opens - 1, 0)]
        after = data[np.minimum(closes + 1, len(data) - 1)]
        bounds = np.array([ord(delimiter), ord("\n"), ord('"')], dtype=np.uint8)
        well_formed = bool(
            len(quotes) % 2 == 0
            and (np.isin(before, bounds) | (opens == 0)).all()
            and (np.isin(after, np.append(bounds, ord("\r"))) | (closes == len(data) - 1)).all()
        )
    # A last line without a line break is a record too; a line break at the very end opens none.
    if len(data) and (not len(ends) or ends[-1] != len(data) - 1):
        ends = np.append(ends, len(data))
    # A record's fields: the delimiters before its end less those before the previous end, + 1.
    counts = np.diff(np.searchsorted(delims, ends), prepend=0)
    return pl.Series("fields", counts.astype(np.int64) + 1), well_formed


def misshapen_rows(fields: pl.Series, cut_off: bool) -> pl.DataFrame | None:
    """Data rows with more or fewer fields than the header (None when there are none, as in
    almost every file). A short last line in a file that does not end in a newline is a copy
    that stopped early (truncated_row); any other wrong count is a ragged_row. polars would
    otherwise pad short rows with nulls and cut long ones."""
    counts = fields.to_numpy()
    if not len(counts) or (counts[1:] == counts[0]).all():
        return None
    expected = int(counts[0])
    last = fields.len() - 1
    return (
        fields.to_frame()
        .with_row_index("_row_number")
        .filter((pl.col("_row_number") > 0) & (pl.col("fields") != expected))
        .select(
            pl.col("_row_number").cast(pl.Int64),
            pl.when(
                pl.lit(cut_off) & (pl.col("_row_number") == last) & (pl.col("fields") < expected)
            )
            .then(pl.lit("truncated_row"))
            .otherwise(pl.lit("ragged_row"))
            .alias("check"),
            pl.format("found {} fields, expected {}", pl.col("fields"), pl.lit(expected)).alias(
                "failure_value"
            ),
        )
    )

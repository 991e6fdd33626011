"""The file-level contract: what one landed file (or one database table pull) becomes before
its rows are looked at.

``LandedFile`` is that record: its rows as strings under raw column names, or the problem that
quarantines or rejects it whole. Landed headers are mapped to raw names here
(``conform_columns``), a file can be quarantined whole (``quarantine_whole_file``), and a file
whose exact content was already loaded is marked a duplicate (``mark_duplicates``). The CSV
reader (orchestration.lib.ingest.parse) and the case-management pull both build on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from schemas._base import ExtractSpec, normalise_header


@dataclass(frozen=True)
class FileProblem:
    """Why a whole file is quarantined, rejected or skipped: one of the file-level checks."""

    check: str  # unreadable_file, empty_file, header_missing, required_column_missing, ...
    column: str | None  # the raw column(s) at fault, comma-separated; None for the whole file
    message: str  # names the file; recorded in the audit and the quarantine


@dataclass
class LandedFile:
    """One file (or one database table pull) after the file-level contract."""

    name: str
    sha256: str
    encoding: str
    frame: pl.DataFrame | None  # strings, raw column names; None if unreadable
    rows_read: int
    # Set when the whole file is quarantined, rejected or skipped as a duplicate.
    problem: FileProblem | None = None
    extra_columns: list[str] = field(default_factory=list)
    # Rows whose shape is wrong (ragged_row, truncated_row): _row_number, check, failure_value.
    # They are quarantined as they are; their fields cannot be trusted to be in their columns.
    row_problems: pl.DataFrame | None = None
    # How the file was identified when its name is not the expected one (ingest.landing).
    note: str | None = None


class UnreadableError(ValueError):
    """A file the CSV reader cannot be trusted on; the message is safe to record."""


def quarantine_whole_file(
    name: str, sha: str, encoding: str, rows: int, check: str, message: str
) -> LandedFile:
    """A file quarantined whole: one quarantine row per data line, so the accounts reconcile."""
    frame = pl.DataFrame({"_placeholder": pl.repeat(None, rows, dtype=pl.Utf8, eager=True)})
    return LandedFile(
        name=name,
        sha256=sha,
        encoding=encoding,
        frame=frame,
        rows_read=rows,
        problem=FileProblem(check=check, column=None, message=message),
    )


def delimiter_hint(columns: list[str], expected: str) -> str:
    """A hint for a message, when a header read as one column looks split by another
    delimiter than the extract's; else an empty string."""
    if len(columns) != 1:
        return ""
    for other in (",", "|", ";", "\t"):
        if other != expected and other in columns[0]:
            return (
                f" (the header looks {other!r}-delimited; this extract is {expected!r}-delimited)"
            )
    return ""


def conform_columns(
    spec: ExtractSpec, frame: pl.DataFrame, name: str, sha: str, encoding: str
) -> LandedFile:
    """Map landed headers to raw names; record unknown extras; flag missing required columns."""
    mapping = spec.header_map()
    landed_headers = list(frame.columns)
    renames, extras = {}, []
    for header in frame.columns:
        raw = mapping.get(normalise_header(header, spec.fuzzy_headers))
        if raw is None:
            extras.append(header.replace("\ufeff", "").strip())
        else:
            renames[header] = raw
    height = frame.height
    frame = frame.select(list(renames)).rename(renames)
    if frame.width == 0:  # no header recognised: keep the rows, so they are counted and quarantined
        frame = pl.select(pl.repeat(None, height, dtype=pl.Utf8).alias(spec.columns[0].raw))
    missing = [c.raw for c in spec.columns if c.required and c.raw not in frame.columns]
    for col in spec.columns:  # optional columns absent from this file are simply empty
        if col.raw not in frame.columns and not col.required:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(col.raw))
    if missing:
        hint = delimiter_hint(landed_headers, spec.delimiter)
        headers = [c.header for c in spec.columns if c.raw in missing]
        return LandedFile(
            name=name,
            sha256=sha,
            encoding=encoding,
            frame=frame,
            rows_read=frame.height,
            problem=FileProblem(
                check="required_column_missing",
                column=",".join(missing),
                message=f"{name}: required column(s) missing: {', '.join(headers)}{hint}",
            ),
            extra_columns=extras,
        )
    return LandedFile(
        name=name,
        sha256=sha,
        encoding=encoding,
        frame=frame.select([c.raw for c in spec.columns]),
        rows_read=frame.height,
        extra_columns=extras,
    )


def mark_duplicates(
    landed: list[LandedFile], extract_date: dt.date, loaded: dict[str, tuple[dt.date, str]]
) -> None:
    """A file whose exact content was already loaded — under another name or extract date, or
    twice in this folder — is skipped and recorded, never loaded twice. An earlier load of this
    same extract date does not count: the partition is replaced whole, so a file renamed or
    gzipped in place would otherwise be skipped as a copy of itself and its rows lost."""
    here: dict[str, str] = {}
    for f in landed:
        if f.rows_read == 0:
            continue  # empty and header-only files all look alike; they carry no rows to double
        prior = loaded.get(f.sha256)
        if f.sha256 in here:
            where = f"{here[f.sha256]} in the same folder"
        elif prior is not None and prior[0] != extract_date:
            where = f"{prior[1]} loaded for {prior[0]}"
        else:
            here[f.sha256] = f.name
            continue
        f.problem = FileProblem(
            check="duplicate_file",
            column=None,
            message=f"{f.name}: identical to {where}; skipped, not loaded twice",
        )
        f.frame, f.rows_read, f.row_problems = None, 0, None

"""Reading landed files: bytes in, ``LandedFile`` out.

A file is decoded (UTF-8, else cp1252), hashed, checked for emptiness, a header and CSV that
can be trusted, and parsed as strings; files that share a header line are parsed in one call.
The file-level contract (orchestration.lib.ingest.contract) then maps its columns.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from orchestration.lib.ingest.contract import (
    FileProblem,
    LandedFile,
    UnreadableError,
    conform_columns,
    delimiter_hint,
    quarantine_whole_file,
)
from orchestration.lib.ingest.landing import DECOMPRESSION_ERRORS, LandedEntry
from orchestration.lib.ingest.layout import (
    first_line,
    misshapen_rows,
    physical_lines,
    record_layout,
)
from schemas._base import ExtractSpec, normalise_header


def decode(data: bytes) -> tuple[bytes, str]:
    """UTF-8 (with or without BOM) is passed through; anything else is taken as cp1252, the
    encoding of Excel on Windows, which is where non-UTF-8 NHS extracts come from."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:], "utf-8-sig"
    if data.isascii():  # valid UTF-8, checked without decoding a copy of the file
        return data, "utf-8"
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace").encode("utf-8"), "cp1252"


@dataclass
class _Inspected:
    """A landed file after the checks that need no CSV parse."""

    name: str  # as recorded: the file's name, or archive.zip/member
    sha256: str
    encoding: str
    body: bytes | None  # decoded, BOM removed; None for an empty file
    fields: pl.Series | None  # fields per record, header first
    # The header line, when the file may be parsed in one buffer with others that share it:
    # a recognised header and quoting that leaves no doubt where each record ends.
    header: bytes | None
    note: str | None = None  # how it was identified, when not by its expected name
    unreadable: str | None = None  # why its content cannot be had (a damaged archive)

    @classmethod
    def without_body(
        cls, entry: LandedEntry, sha256: str, unreadable: str | None = None
    ) -> _Inspected:
        """An empty file, or one whose content cannot be had (``unreadable`` says why)."""
        return cls(
            name=entry.name,
            sha256=sha256,
            encoding="n/a",
            body=None,
            fields=None,
            header=None,
            note=entry.note,
            unreadable=unreadable,
        )


def _inspect(spec: ExtractSpec, landed: Path | LandedEntry) -> _Inspected:
    entry = landed if isinstance(landed, LandedEntry) else LandedEntry(landed)
    try:
        # Decompressed (.gz, zip member): the sha256 is of the content, so duplicate detection
        # finds the same rows plain, gzipped or zipped.
        data = entry.read()
    except DECOMPRESSION_ERRORS as exc:
        sha = hashlib.sha256(entry.path.read_bytes()).hexdigest()
        why = f"{entry.name}: its content cannot be decompressed ({type(exc).__name__})"
        return _Inspected.without_body(entry, sha, unreadable=why)
    sha = hashlib.sha256(data).hexdigest()
    # Blank (nothing but ASCII whitespace, what bytes.strip removes), without a stripped copy.
    if not data or data.isspace():
        return _Inspected.without_body(entry, sha)
    body, encoding = decode(data)
    fields, plain = record_layout(body, spec.delimiter)
    header = first_line(body) if plain and _first_line_is_header(spec, body) else None
    return _Inspected(
        name=entry.name,
        sha256=sha,
        encoding=encoding,
        body=body,
        fields=fields,
        header=header,
        note=entry.note,
    )


def read_landed_file(spec: ExtractSpec, path: Path | LandedEntry) -> LandedFile:
    """One landed file, parsed alone (``read_landed_files`` reads a folder's files)."""
    return _finish(spec, _inspect(spec, path))


def read_landed_files(spec: ExtractSpec, paths: list[Path] | list[LandedEntry]) -> list[LandedFile]:
    """The files of one extract date, in order. Files that share a header line are parsed in
    one polars call over their concatenated rows: a call has a fixed cost whatever its size, and
    a night is mostly many small files (docs/architecture.md, "Ingest: measured decisions"). The result is the per-file one: the
    grouped parse is used only when its rows split back exactly into each file's records (see
    _parse_together); otherwise, and for every unusual file, each file is parsed alone."""
    inspected = [_inspect(spec, p) for p in paths]
    groups: dict[bytes, list[int]] = {}
    for i, x in enumerate(inspected):
        if x.header is not None:
            groups.setdefault(x.header, []).append(i)
    together: dict[int, LandedFile] = {}
    for members in groups.values():
        if len(members) > 1:
            parsed = _parse_together(spec, [inspected[i] for i in members])
            together.update(zip(members, parsed or [], strict=False))
    return [together.get(i) or _finish(spec, x) for i, x in enumerate(inspected)]


def _csv(body: bytes, spec: ExtractSpec) -> pl.DataFrame:
    # Ragged lines are read (too long: cut; too short: padded) so that one bad line cannot
    # sink the file; misshapen_rows then finds and quarantines exactly those lines.
    return pl.read_csv(
        io.BytesIO(body),
        separator=spec.delimiter,
        infer_schema=False,
        has_header=True,
        truncate_ragged_lines=True,
    )


def _parse_together(spec: ExtractSpec, members: list[_Inspected]) -> list[LandedFile] | None:
    """Parse files with the same header line as one CSV: the first file whole, the others
    without their header, each ending in a line break. Every member's quoting is well formed
    (record_layout), so each file's records start and end where they would alone; the total
    row count is checked all the same, and None (parse each file alone) if it differs."""
    parts: list[bytes | memoryview] = []
    for i, m in enumerate(members):
        assert m.body is not None and m.fields is not None
        # Views, not copies: the join below is the one copy of the bytes.
        rows = memoryview(m.body)[0 if i == 0 else m.body.find(b"\n") + 1 or len(m.body) :]
        parts.append(rows)
        if rows and rows[-1] != ord("\n"):
            parts.append(b"\n")
    try:
        frame = _csv(b"".join(parts), spec)
    except Exception:  # the per-file parse says what is wrong, file by file
        return None
    heights = [m.fields.len() - 1 for m in members if m.fields is not None]
    if sum(heights) != frame.height:
        return None
    offsets = np.cumsum([0, *heights])
    first = members[0]
    shared = conform_columns(spec, frame, first.name, first.sha256, first.encoding)
    if shared.problem is not None:
        return None  # a missing column: messages name each file, so conform file by file
    out = []
    for m, offset, height in zip(members, offsets, heights, strict=False):
        assert m.body is not None and m.fields is not None and shared.frame is not None
        landed = LandedFile(
            name=m.name,
            sha256=m.sha256,
            encoding=m.encoding,
            frame=shared.frame.slice(int(offset), height),
            rows_read=height,
            extra_columns=list(shared.extra_columns),
            note=m.note,
        )
        landed.row_problems = misshapen_rows(m.fields, cut_off=not m.body.endswith((b"\n", b"\r")))
        out.append(landed)
    return out


def _finish(spec: ExtractSpec, x: _Inspected) -> LandedFile:
    """One file parsed alone: the file-level contract in full."""
    landed = _finish_contract(spec, x)
    landed.note = x.note
    return landed


def _unread(name: str, sha: str, problem: FileProblem) -> LandedFile:
    """A file with no rows to read (empty, or its content cannot be had)."""
    return LandedFile(
        name=name, sha256=sha, encoding="n/a", frame=None, rows_read=0, problem=problem
    )


def _finish_contract(spec: ExtractSpec, x: _Inspected) -> LandedFile:
    name, sha, encoding, body, fields = x.name, x.sha256, x.encoding, x.body, x.fields
    if x.unreadable is not None:
        return _unread(name, sha, FileProblem("unreadable_file", None, x.unreadable))
    if body is None or fields is None:
        return _unread(name, sha, FileProblem("empty_file", None, f"{name}: the file is empty"))
    try:
        frame = _csv(body, spec)
        if fields.len() != frame.height + 1:
            raise UnreadableError("its quoting leaves the number of rows ambiguous")
    except Exception as exc:  # polars reports malformed CSV with many exception types
        # Only our own reasons are quoted: a parser's message may hold the row's values.
        reason = str(exc) if isinstance(exc, UnreadableError) else type(exc).__name__
        lines = physical_lines(body)
        data_lines = lines - 1 if _first_line_is_header(spec, body) else lines
        return quarantine_whole_file(
            name,
            sha,
            encoding,
            data_lines,
            "unreadable_file",
            f"{name}: cannot be parsed as CSV ({reason}); all {data_lines} data line(s) "
            "quarantined",
        )
    if not _first_line_is_header(spec, body) and not delimiter_hint(
        list(frame.columns), spec.delimiter
    ):
        # The first line is data, not a header: polars took it for column names, so it is a
        # row too. Its values are never quoted (they would be an NHS number, among others).
        rows = frame.height + 1
        return quarantine_whole_file(
            name,
            sha,
            encoding,
            rows,
            "header_missing",
            f"{name}: no recognised header (none of the first line's {frame.width} "
            f"field(s) names a {spec.table} column); all {rows} line(s) quarantined",
        )
    landed = conform_columns(spec, frame, name, sha, encoding)
    landed.row_problems = misshapen_rows(fields, cut_off=not body.endswith((b"\n", b"\r")))
    return landed


def _first_line_is_header(spec: ExtractSpec, body: bytes) -> bool:
    """Does the first line name at least one column of this extract? One line, so the csv
    module is fine here."""
    first = first_line(body).decode("utf-8", errors="replace").rstrip("\r")
    fields = next(csv.reader([first], delimiter=spec.delimiter), [])
    mapping = spec.header_map()
    return any(normalise_header(f, spec.fuzzy_headers) in mapping for f in fields)

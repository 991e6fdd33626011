"""Landing → raw zone for one extract type and one extract date.

The order matters for "nothing leaked": rows are read as strings, checked against the file
contract and the pandera schema, and identifiers are pseudonymised *before* anything is written;
failure values of identifier columns are replaced by the pseudonym. Every row read ends up in
exactly one of the raw zone or the quarantine, and the audit row per file says how many.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import polars as pl
from pandera.errors import SchemaErrors

from orchestration.lib import faults, night, zones
from orchestration.lib.landing import DECOMPRESSION_ERRORS, LandedEntry, date_folders, sort_folder
from orchestration.lib.pseudonymise import pseudonymise
from orchestration.lib.settings import Settings
from schemas._base import ExtractSpec, normalise_header

# Partitions validated and written at once: one more than the 2 cores this is sized for, so
# that one partition's single-threaded stretches (Python, DuckDB set-up, file I/O) leave no core idle.
PARTITION_WORKERS = 3
# An NHS number as people write it: 10 digits, or 3-3-4 with spaces or dashes, not part of a
# longer digit run. Rust's regex has no look-around, so the neighbouring non-digit (or the end
# of the text) is captured and put back; see withhold_identifiers for why two passes.
NHS_LIKE = r"(^|\D)\d{3}[ -]?\d{3}[ -]?\d{4}(\D|$)"
WITHHELD = "<withheld: 10-digit identifier>"
QUARANTINE_SCHEMA = {
    "_source_file": pl.Utf8,
    "_row_number": pl.Int64,
    "check": pl.Utf8,
    "column": pl.Utf8,
    "failure_value": pl.Utf8,
    "message": pl.Utf8,  # why a whole file was quarantined, naming it; null for row rules
}
AUDIT_SCHEMA = {
    "table": pl.Utf8,
    "source_file": pl.Utf8,
    "sha256": pl.Utf8,
    "encoding": pl.Utf8,
    "rows_read": pl.Int64,
    "rows_loaded": pl.Int64,
    "rows_quarantined": pl.Int64,
    "outcome": pl.Utf8,
    "message": pl.Utf8,
    "run_id": pl.Utf8,
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
}


@dataclass
class LandedFile:
    """One file (or one database table pull) after the file-level contract."""

    name: str
    sha256: str
    encoding: str
    frame: pl.DataFrame | None  # strings, raw column names; None if unreadable
    rows_read: int
    # (check, column, message) when the whole file is quarantined or rejected
    problem: tuple[str, str | None, str] | None = None
    extra_columns: list[str] = field(default_factory=list)
    # Rows whose shape is wrong (ragged_row, truncated_row): _row_number, check, failure_value.
    # They are quarantined as they are; their fields cannot be trusted to be in their columns.
    row_problems: pl.DataFrame | None = None
    # How the file was identified when its name is not the expected one (orchestration.lib.landing).
    note: str | None = None


@dataclass
class PartitionResult:
    table: str
    extract_date: dt.date
    files: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    skipped: bool = False
    quarantine_by_check: dict[str, int] = field(default_factory=dict)


def withhold_identifiers(text: pl.Expr) -> pl.Expr:
    """Replace every NHS-number-like token in ``text`` by a marker.

    Swapped or shifted columns put NHS numbers into columns that are not declared identifiers,
    and a headerless file turns its first data row into column names; neither may reach the
    quarantine or the audit. The pattern consumes the non-digit on each side of a match, so two
    tokens one character apart need a second pass (a token missed by the first pass always
    follows a replaced one, so a third is never needed)."""
    replacement = "${1}" + WITHHELD + "${2}"
    return text.str.replace_all(NHS_LIKE, replacement).str.replace_all(NHS_LIKE, replacement)


# ---------------------------------------------------------------------------------------------
# Discovering and reading landed files
# ---------------------------------------------------------------------------------------------


def landing_dates(settings: Settings, spec: ExtractSpec) -> list[dt.date]:
    """The extract dates with at least one file of ``spec`` (orchestration.lib.landing says
    which files are whose: by name, or by header when the name is not the expected one)."""
    return [
        day
        for day, folder in date_folders(settings.landing, spec.source)
        if sort_folder(settings.landing, spec.source, folder, day).by_table.get(spec.table)
    ]


def files_for(settings: Settings, spec: ExtractSpec, extract_date: dt.date) -> list[LandedEntry]:
    """The files of ``spec`` for one extract date, in name order: files (``.csv`` in any case,
    ``.csv.gz``) and zip members, named as the extract's pattern expects or identified by their
    header. Files no extract recognises are the landing_accounted check's business."""
    folder = settings.landing / spec.source / extract_date.isoformat()
    if not folder.is_dir():
        return []
    return sort_folder(settings.landing, spec.source, folder, extract_date).by_table.get(
        spec.table, []
    )


def _decode(data: bytes) -> tuple[bytes, str]:
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


def _inspect(spec: ExtractSpec, landed: Path | LandedEntry) -> _Inspected:
    entry = landed if isinstance(landed, LandedEntry) else LandedEntry(landed)
    try:
        # Decompressed (.gz, zip member): the sha256 is of the content, so duplicate detection
        # finds the same rows plain, gzipped or zipped.
        data = entry.read()
    except DECOMPRESSION_ERRORS as exc:
        sha = hashlib.sha256(entry.path.read_bytes()).hexdigest()
        why = f"{entry.name}: its content cannot be decompressed ({type(exc).__name__})"
        return _Inspected(entry.name, sha, "n/a", None, None, None, entry.note, why)
    sha = hashlib.sha256(data).hexdigest()
    # Blank (nothing but ASCII whitespace, what bytes.strip removes), without a stripped copy.
    if not data or data.isspace():
        return _Inspected(entry.name, sha, "n/a", None, None, None, entry.note)
    body, encoding = _decode(data)
    fields, plain = _record_layout(body, spec.delimiter)
    header = _first_line(body) if plain and _first_line_is_header(spec, body) else None
    return _Inspected(entry.name, sha, encoding, body, fields, header, entry.note)


def read_landed_file(spec: ExtractSpec, path: Path | LandedEntry) -> LandedFile:
    return _finish(spec, _inspect(spec, path))


def read_landed_files(spec: ExtractSpec, paths: list[Path] | list[LandedEntry]) -> list[LandedFile]:
    """The files of one extract date, in order. Files that share a header line are parsed in
    one polars call over their concatenated rows: a call costs ~1 ms whatever its size, and an
    ICB's night is ~27,000 files, most of them small. The result is the per-file one: the
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
    # sink the file; _row_problems then finds and quarantines exactly those lines.
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
    (_record_layout), so each file's records start and end where they would alone; the total
    row count is checked all the same, and None (parse each file alone) if it differs."""
    parts = []
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
            m.name,
            m.sha256,
            m.encoding,
            shared.frame.slice(int(offset), height),
            height,
            None,
            list(shared.extra_columns),
            note=m.note,
        )
        landed.row_problems = _row_problems(m.fields, cut_off=not m.body.endswith((b"\n", b"\r")))
        out.append(landed)
    return out


def _finish(spec: ExtractSpec, x: _Inspected) -> LandedFile:
    """One file parsed alone: the file-level contract in full."""
    landed = _finish_contract(spec, x)
    landed.note = x.note
    return landed


def _finish_contract(spec: ExtractSpec, x: _Inspected) -> LandedFile:
    name, sha, encoding, body, fields = x.name, x.sha256, x.encoding, x.body, x.fields
    if x.unreadable is not None:
        return LandedFile(name, sha, "n/a", None, 0, ("unreadable_file", None, x.unreadable))
    if body is None or fields is None:
        return LandedFile(
            name, sha, "n/a", None, 0, ("empty_file", None, f"{name}: the file is empty")
        )
    try:
        frame = _csv(body, spec)
        if fields.len() != frame.height + 1:
            raise UnreadableError("its quoting leaves the number of rows ambiguous")
    except Exception as exc:  # polars reports malformed CSV with many exception types
        # Only our own reasons are quoted: a parser's message may hold the row's values.
        reason = str(exc) if isinstance(exc, UnreadableError) else type(exc).__name__
        lines = _physical_lines(body)
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
    if not _first_line_is_header(spec, body) and not _delimiter_hint(
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
    landed.row_problems = _row_problems(fields, cut_off=not body.endswith((b"\n", b"\r")))
    return landed


class UnreadableError(ValueError):
    """A file the CSV reader cannot be trusted on; the message is safe to record."""


def _physical_lines(body: bytes) -> int:
    """Lines in the file, a last line without a newline included (counted in C, not Python)."""
    return body.count(b"\n") + (0 if body.endswith(b"\n") else 1)


def _first_line(body: bytes) -> bytes:
    """The first line, without its line break (a split would copy the rest of the file)."""
    end = body.find(b"\n")
    return body if end < 0 else body[:end]


def _first_line_is_header(spec: ExtractSpec, body: bytes) -> bool:
    """Does the first line name at least one column of this extract? One line, so the csv
    module is fine here."""
    first = _first_line(body).decode("utf-8", errors="replace").rstrip("\r")
    fields = next(csv.reader([first], delimiter=spec.delimiter), [])
    mapping = spec.header_map()
    return any(normalise_header(f, spec.fuzzy_headers) in mapping for f in fields)


def quarantine_whole_file(
    name: str, sha: str, encoding: str, rows: int, check: str, message: str
) -> LandedFile:
    """A file quarantined whole: one quarantine row per data line, so the accounts reconcile."""
    frame = pl.DataFrame({"_placeholder": pl.repeat(None, rows, dtype=pl.Utf8, eager=True)})
    return LandedFile(name, sha, encoding, frame, rows, (check, None, message))


def record_field_counts(body: bytes, delimiter: str) -> pl.Series:
    """Fields per CSV record, header first (see _record_layout)."""
    return _record_layout(body, delimiter)[0]


def _record_layout(body: bytes, delimiter: str) -> tuple[pl.Series, bool]:
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


def _row_problems(fields: pl.Series, cut_off: bool) -> pl.DataFrame | None:
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


def _delimiter_hint(columns: list[str], expected: str) -> str:
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
        hint = _delimiter_hint(landed_headers, spec.delimiter)
        headers = [c.header for c in spec.columns if c.raw in missing]
        return LandedFile(
            name,
            sha,
            encoding,
            frame,
            frame.height,
            (
                "required_column_missing",
                ",".join(missing),
                f"{name}: required column(s) missing: {', '.join(headers)}{hint}",
            ),
            extras,
        )
    return LandedFile(
        name, sha, encoding, frame.select([c.raw for c in spec.columns]), frame.height, None, extras
    )


# ---------------------------------------------------------------------------------------------
# Row-level validation
# ---------------------------------------------------------------------------------------------


def no_failures() -> pl.DataFrame:
    """An empty frame of row failures, in the shape every rule returns."""
    return pl.DataFrame(
        schema={"_rid": pl.Int64, "check": pl.Utf8, "column": pl.Utf8, "failure_value": pl.Utf8}
    )


def _duplicates(spec: ExtractSpec, batch: pl.DataFrame) -> pl.DataFrame:
    """Exact duplicate rows: the first copy is kept, later copies are quarantined.
    Same source key with different content: every copy is quarantined (we cannot know which
    one the source meant)."""
    content = [c.raw for c in spec.columns]
    if spec.key:
        # Exact copies share their key, so only rows whose key recurs in their file can be
        # either kind of duplicate: the dear whole-row comparison runs on those alone. Equal
        # keys have equal 64-bit hashes, so a row whose hash is unique in the batch is no
        # candidate; sorted hashes find the repeats (usually none) for a quarter of the cost
        # of a hash table over the key strings, which then runs on the candidates only.
        key = pl.col(spec.key[0]) if len(spec.key) == 1 else pl.struct(*spec.key)
        hashes = batch.select(key.hash()).to_series().to_numpy()
        ordered = np.sort(hashes)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        batch = (
            batch.filter(pl.Series(np.isin(hashes, repeated))) if len(repeated) else batch.clear()
        )
        batch = batch.filter(pl.struct("_source_file", *spec.key).is_duplicated())
    if spec.identical_rows_are_records:
        dup = batch.clear()
    else:
        dup = batch.filter(pl.struct(content).is_first_distinct().over("_source_file").not_())
    out = [
        dup.select(
            "_rid",
            pl.lit("duplicate_row").alias("check"),
            pl.lit(None, pl.Utf8).alias("column"),
            pl.lit(None, pl.Utf8).alias("failure_value"),
        )
    ]
    if spec.key:
        distinct = batch.filter(pl.col("_rid").is_in(dup["_rid"].implode()).not_())
        clash = distinct.filter(pl.len().over(["_source_file", *spec.key]) > 1)
        has_identifier = any(k in spec.identifier_columns for k in spec.key)
        value = (
            pl.lit(None, pl.Utf8)
            if has_identifier
            else pl.concat_str([pl.col(k) for k in spec.key], separator="|", ignore_nulls=True)
        )
        out.append(
            clash.select(
                "_rid",
                pl.lit("unique_key").alias("check"),
                pl.lit(",".join(spec.key)).alias("column"),
                value.alias("failure_value"),
            )
        )
    return pl.concat(out)


def _schema_failures(spec: ExtractSpec, batch: pl.DataFrame) -> pl.DataFrame:
    if batch.is_empty():
        # No suspect rows (the fused pre-filter passed them all): pandera would still cost
        # ~10 ms of set-up, ~1,000 times in an ICB's first load.
        return no_failures()
    try:
        spec.schema.validate(batch.select([c.raw for c in spec.columns]), lazy=True)
        return no_failures()
    except SchemaErrors as err:  # never str(err): it embeds failing values, identifiers included
        fc = err.failure_cases
    if fc.filter(pl.col("index").is_null()).height:
        # Whole-frame problems cannot happen on an all-string frame with every column present;
        # if they do, the spec and the file contract disagree: fail loudly, without values.
        checks = fc.filter(pl.col("index").is_null())["check"].unique().to_list()
        raise RuntimeError(f"{spec.table}: schema-level validation failure(s) {checks}")
    rows = batch.select("_rid").with_row_index("index")
    is_row_rule = pl.col("schema_context") == "DataFrameSchema"
    row_rule_columns = {r.name: ",".join(r.columns) for r in spec.row_rules}
    return (
        fc.with_columns(pl.col("index").cast(pl.UInt32))
        .join(rows, on="index", how="left")
        .select(
            "_rid",
            pl.col("check").str.replace(r"\(.*$", ""),
            pl.when(is_row_rule)
            .then(pl.col("check").replace(row_rule_columns))
            .otherwise(pl.col("column"))
            .alias("column"),
            # Row-level rules report the whole row as JSON: drop it, it may hold identifiers.
            pl.when(is_row_rule)
            .then(None)
            .otherwise(pl.col("failure_case"))
            .alias("failure_value"),
        )
    )


def _unknown_practices(
    spec: ExtractSpec, batch: pl.DataFrame, known: set[str] | None
) -> pl.DataFrame:
    if spec.practice_column is None or known is None:
        return no_failures()
    col = pl.col(spec.practice_column)
    # The set lookup first, over every row; the format test (a regex, dearer) then runs only on
    # the few codes not found.
    unknown = batch.filter(
        col.is_not_null() & col.is_in(pl.Series(list(known), dtype=pl.Utf8).implode()).not_()
    )
    bad = unknown.filter(col.str.contains(r"^[A-Z][0-9]{5}$"))
    return bad.select(
        "_rid",
        pl.lit("practice_code_known").alias("check"),
        pl.lit(spec.practice_column).alias("column"),
        col.alias("failure_value"),
    )


def _episode_failures(spec: ExtractSpec, batch: pl.DataFrame) -> pl.DataFrame:
    """Rules across the rows of one episode (follow-up after baseline), over the whole batch:
    the rows of one episode may come in different files of the same extract date."""
    out = [
        batch.filter(rule.violations()).select(
            "_rid",
            pl.lit(rule.name).alias("check"),
            pl.lit(rule.date).alias("column"),
            pl.col(rule.date).alias("failure_value"),
        )
        for rule in spec.episode_rules
    ]
    return pl.concat([no_failures(), *out])


def validate_batch(
    spec: ExtractSpec, files: list[LandedFile], key: bytes, known_practices: set[str] | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validate all readable files of one partition together (pandera has a fixed cost per
    call). Returns (typed raw rows, quarantine rows)."""
    kept = [f for f in files if f.frame is not None and f.frame.height]
    frames = [f.frame for f in kept]
    raw_cols = [c.raw for c in spec.columns]
    if not frames:
        frames = [pl.DataFrame(schema={c: pl.Utf8 for c in raw_cols})]
    # Each row's file and line within it, built once for the batch from the files' heights
    # (numpy) rather than by a polars call per file: an ICB's night is ~27,000 small files.
    heights = np.array([f.height for f in frames], dtype=np.int64)
    file_of_row = pl.Series(np.repeat(np.arange(len(frames)), heights))
    row_number = np.arange(heights.sum()) - np.repeat(np.cumsum(heights) - heights, heights) + 1
    batch = (
        pl.concat(frames, how="diagonal")
        .with_columns(
            pl.Series("_source_file", [f.name for f in kept], dtype=pl.Utf8).gather(file_of_row),
            pl.Series("_row_number", row_number, dtype=pl.Int64),
        )
        # A file rejected for missing columns still has its rows counted: give them the columns.
        .with_columns(
            pl.lit(None, pl.Utf8).alias(c)
            for c in raw_cols
            if c not in set().union(*(f.columns for f in frames))
        )
        .with_row_index("_rid")
        .with_columns(
            pl.col("_rid").cast(pl.Int64),
            # Empty and whitespace-only cells are absent values (once per batch, not per file).
            *(
                pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c)
                for c in raw_cols
            ),
        )
    )

    whole_file = [
        (f.name, f.problem)
        for f in files
        if f.problem is not None and f.frame is not None and f.frame.height
    ]
    in_rejected_file = pl.col("_source_file").is_in([n for n, _ in whole_file])
    ok_files = batch.filter(in_rejected_file.not_()) if whole_file else batch

    # Misshapen rows are quarantined for their shape alone: their values may sit in the wrong
    # columns, so value rules on them would report noise.
    shape_problems = [
        f.row_problems.with_columns(pl.lit(f.name).alias("_source_file"))
        for f in files
        if f.row_problems is not None and f.row_problems.height
    ]
    misshapen = (
        pl.concat(shape_problems)
        .join(
            ok_files.select("_rid", "_source_file", "_row_number"),
            on=["_source_file", "_row_number"],
        )
        .select(
            "_rid",
            "check",
            pl.lit(None, pl.Utf8).alias("column"),
            "failure_value",
        )
        if shape_problems
        else no_failures()
    )
    well_formed = (
        ok_files.filter(pl.col("_rid").is_in(misshapen["_rid"].implode()).not_())
        if misshapen.height
        else ok_files
    )
    # One fused pass finds the rows the schema rejects; pandera then reports those rows'
    # failures check by check (it would otherwise make a pass over every row per check).
    suspects = well_formed.filter(spec.passes_schema().not_())
    failures = pl.concat(
        [
            _duplicates(spec, well_formed),
            _schema_failures(spec, suspects),
            _unknown_practices(spec, well_formed, known_practices),
            _episode_failures(spec, well_formed),
            misshapen,
        ]
    )

    # Pseudonymise before anything leaves this function. _rid is the row's position in
    # batch, so a failure's row is fetched by position rather than by a join over every row.
    for ident in spec.identifier_columns:
        batch = pseudonymise(batch, ident, key)
        failures = failures.with_columns(
            pl.when(pl.col("column") == ident)
            .then(batch.get_column(ident).gather(failures.get_column("_rid")))
            .otherwise(pl.col("failure_value"))
            .alias("failure_value")
        )
    # Identifier columns keep the pseudonym; anywhere else an NHS-number-like value means the
    # columns are swapped or shifted, and the value is withheld rather than stored.
    failures = failures.with_columns(withhold_identifiers(pl.col("failure_value")))

    file_failures = [
        batch.filter(pl.col("_source_file") == name).select(
            "_source_file",
            "_row_number",
            pl.lit(check).alias("check"),
            pl.lit(column, pl.Utf8).alias("column"),
            pl.lit(None, pl.Utf8).alias("failure_value"),
            withhold_identifiers(pl.lit(msg, pl.Utf8)).alias("message"),
        )
        for name, (check, column, msg) in whole_file
    ]
    quarantine = (
        pl.concat(
            [
                failures.with_columns(
                    batch.get_column(c).gather(failures.get_column("_rid"))
                    for c in ("_source_file", "_row_number")
                )
                .with_columns(pl.lit(None, pl.Utf8).alias("message"))
                .select(list(QUARANTINE_SCHEMA)),
                *file_failures,
            ]
        )
        .cast(QUARANTINE_SCHEMA)
        .sort(["_source_file", "_row_number", "check"])
    )

    # Files were concatenated in name order and rows in file order, so the raw zone is written
    # in (_source_file, _row_number) order without a sort; a filter keeps that order.
    keep = pl.col("_rid").is_in(failures["_rid"].unique().implode()).not_()
    if whole_file:
        keep = keep & in_rejected_file.not_()
    good = (
        batch.filter(keep)
        .with_columns(spec.casts())
        .select([*raw_cols, "_source_file", "_row_number"])
    )
    return good, quarantine


# ---------------------------------------------------------------------------------------------
# One partition, end to end
# ---------------------------------------------------------------------------------------------


def previously_loaded(
    settings: Settings, spec: ExtractSpec, extract_date: dt.date
) -> set[tuple[str, str]]:
    """(file, sha256) pairs of the latest run recorded for this partition."""
    part = zones.partition_dir(settings.audit / f"table={spec.table}", extract_date)
    if not part.exists():
        return set()
    audit = pl.read_parquet(sorted(part.glob("*.parquet")))
    if audit.is_empty():
        return set()
    latest = audit.filter(pl.col("finished_at") == pl.col("finished_at").max())
    return set(zip(latest["source_file"], latest["sha256"], strict=True))


def load_partition(
    settings: Settings,
    spec: ExtractSpec,
    extract_date: dt.date,
    landed: list[LandedFile],
    run_id: str,
    known_practices: set[str] | None,
    force: bool = False,
) -> PartitionResult:
    started = dt.datetime.now()
    fingerprint = {(f.name, f.sha256) for f in landed}
    if not force and landed and fingerprint == previously_loaded(settings, spec, extract_date):
        return PartitionResult(spec.table, extract_date, len(landed), 0, 0, 0, skipped=True)

    good, quarantine = validate_batch(spec, landed, settings.pseudo_key, known_practices)
    # The audit row is what lets a rerun skip this partition, so it is written last: a kill
    # before it makes the next run load the partition again (each zone write replaces the
    # partition whole, so nothing is loaded twice).
    zones.replace_partition(settings.raw / spec.table, extract_date, good)
    faults.kill_point("ingest.after_partition_write")
    zones.replace_partition(settings.quarantine / spec.table, extract_date, quarantine)
    faults.kill_point("ingest.before_audit")

    loaded_by_file = dict(good.group_by("_source_file").len().iter_rows())
    quarantined_by_file = dict(
        quarantine.group_by("_source_file").agg(pl.col("_row_number").n_unique()).iter_rows()
    )
    finished = dt.datetime.now()
    audit_rows = []
    for f in landed:
        loaded = loaded_by_file.get(f.name, 0)
        quarantined = quarantined_by_file.get(f.name, 0)
        if f.problem and f.problem[0] == "duplicate_file":
            outcome, message = "duplicate", f.problem[2]
        elif f.problem and not f.rows_read:
            outcome, message = "rejected", f.problem[2]
        elif f.problem:
            outcome, message = "quarantined", f.problem[2]
        else:
            outcome = "loaded" if quarantined == 0 else "partial"
            message = None
        if f.extra_columns:
            extra = f"unknown extra column(s) ignored: {', '.join(f.extra_columns)}"
            message = f"{message}; {extra}" if message else extra
        if f.note:  # read under another name than the expected one (lib/landing.py)
            message = f"{f.note}; {message}" if message else f.note
        audit_rows.append(
            {
                "table": spec.table,
                "source_file": f.name,
                "sha256": f.sha256,
                "encoding": f.encoding,
                "rows_read": f.rows_read,
                "rows_loaded": loaded,
                "rows_quarantined": quarantined,
                "outcome": outcome,
                "message": message,
                "run_id": run_id,
                "started_at": started,
                "finished_at": finished,
            }
        )
    # Messages quote landed headers, which in a headerless file are the first row's values.
    audit = pl.DataFrame(audit_rows, schema=AUDIT_SCHEMA).with_columns(
        withhold_identifiers(pl.col("message"))
    )
    zones.append_to_partition(
        settings.audit / f"table={spec.table}",
        extract_date,
        audit,
        f"run-{finished:%Y%m%dT%H%M%S%f}-{run_id[:8]}.parquet",
    )
    return PartitionResult(
        spec.table,
        extract_date,
        len(landed),
        int(audit["rows_read"].sum()),
        good.height,
        int(audit["rows_quarantined"].sum()),
        quarantine_by_check=dict(quarantine.group_by("check").len().iter_rows()),
    )


def known_practice_codes(settings: Settings) -> set[str] | None:
    """Every practice code any practice-mapping extract has listed, or None before the first
    mapping has been loaded (then the check is skipped and says so)."""
    mapping = zones.read_zone(settings.raw / "ref_practice_mapping")
    if mapping.is_empty():
        return None
    return set(mapping["practice_code"].unique().to_list())


def latest_audit(settings: Settings, table: str) -> pl.DataFrame:
    """The audit rows of the latest run of every partition of ``table`` (empty if none)."""
    audit = zones.read_zone(settings.audit / f"table={table}")
    if audit.is_empty():
        return audit
    return audit.filter(pl.col("finished_at") == pl.col("finished_at").max().over("extract_date"))


def loaded_files(settings: Settings, spec: ExtractSpec) -> dict[str, tuple[dt.date, str]]:
    """sha256 → (extract date, file) of every file the latest run of each partition loaded."""
    latest = latest_audit(settings, spec.table)
    if latest.is_empty():
        return {}
    latest = latest.filter(
        pl.col("outcome").is_in(["loaded", "partial", "quarantined"]) & (pl.col("rows_read") > 0)
    )
    return {
        sha: (day, name)
        for sha, day, name in latest.select("sha256", "extract_date", "source_file").iter_rows()
    }


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
        f.problem = (
            "duplicate_file",
            None,
            f"{f.name}: identical to {where}; skipped, not loaded twice",
        )
        f.frame, f.rows_read, f.row_problems = None, 0, None


def ingest_files(
    settings: Settings,
    spec: ExtractSpec,
    dates: Iterable[dt.date],
    run_id: str,
    force: bool = False,
) -> list[PartitionResult]:
    dates = list(dates)
    # A partition whose files have the names, sizes and mtimes of its last audited load is
    # skipped without reading them (orchestration.lib.night); the rest are read, hashed and
    # loaded (or skipped by sha256) as before. What every changed partition needs is read once,
    # and only when one has changed.
    stamps = night.LandedStamps(settings, spec.table)
    lock = threading.Lock()
    shared: dict[str, object] = {}

    def needs() -> tuple[set[str] | None, dict[str, tuple[dt.date, str]]]:
        with lock:
            if not shared:
                shared["known"] = known_practice_codes(settings) if spec.practice_column else None
                shared["loaded"] = loaded_files(settings, spec)
        return shared["known"], shared["loaded"]  # type: ignore[return-value]

    def one(day: dt.date) -> tuple[PartitionResult, list]:
        entries = files_for(settings, spec, day)
        stats = night.file_stats(entries)
        if not force and stamps.unchanged(day, stats):
            return PartitionResult(spec.table, day, len(entries), 0, 0, 0, skipped=True), stats
        known, loaded = needs()
        landed = read_landed_files(spec, entries)
        mark_duplicates(landed, day, loaded)
        return load_partition(settings, spec, day, landed, run_id, known, force=force), stats

    # Partitions are independent (each reads only its own audit and the pre-run `loaded`), and
    # most of a partition's time is spent in polars, numpy, hashlib and DuckDB, which release
    # the GIL; so PARTITION_WORKERS partitions are in flight at once to keep every core busy.
    # A window of that many, not the whole list: memory stays bounded, and after a failure at
    # most the ones already running finish before the error is raised.
    results: list[PartitionResult] = []
    try:
        with ThreadPoolExecutor(max_workers=PARTITION_WORKERS) as pool:
            pending: deque[Future[tuple[PartitionResult, list]]] = deque()
            upcoming = iter(dates)
            for day in islice(upcoming, PARTITION_WORKERS):
                pending.append(pool.submit(one, day))
            while pending:
                result, stats = pending.popleft().result()
                results.append(result)
                stamps.record(result.extract_date, stats)
                for day in islice(upcoming, 1):
                    pending.append(pool.submit(one, day))
    finally:
        stamps.save()
    return results

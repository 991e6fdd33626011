"""Validating one partition's files together: the rows that pass every rule go to the raw
zone, typed; every other row goes to the quarantine, with why.

Identifiers are pseudonymised before anything leaves ``validate_batch``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from orchestration.lib.ingest.contract import FileProblem, LandedFile
from orchestration.lib.ingest.rules import (
    duplicate_rows,
    episode_failures,
    no_failures,
    schema_failures,
    unknown_practices,
)
from orchestration.lib.ingest.withhold import withhold_identifiers
from orchestration.lib.pseudonymise import pseudonymise
from schemas._base import ExtractSpec

QUARANTINE_SCHEMA: dict[Any, Any] = {
    "_source_file": pl.Utf8,
    "_row_number": pl.Int64,
    "check": pl.Utf8,
    "column": pl.Utf8,
    "failure_value": pl.Utf8,
    "message": pl.Utf8,  # why a whole file was quarantined, naming it; null for row rules
}


def validate_batch(
    spec: ExtractSpec, files: list[LandedFile], key: bytes, known_practices: set[str] | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validate all readable files of one partition together (pandera has a fixed cost per
    call). Returns (typed raw rows, quarantine rows)."""
    batch = _stack(spec, files)
    rejected = _rejected_files(files)
    in_rejected_file = pl.col("_source_file").is_in([name for name, _ in rejected])
    ok_files = batch.filter(in_rejected_file.not_()) if rejected else batch
    misshapen = _misshapen(files, ok_files)
    failures = _row_failures(spec, ok_files, misshapen, known_practices)
    batch, failures = _pseudonymise(spec, batch, failures, key)
    quarantine = _quarantine(batch, failures, rejected)

    # Files were concatenated in name order and rows in file order, so the raw zone is written
    # in (_source_file, _row_number) order without a sort; a filter keeps that order.
    keep = pl.col("_rid").is_in(failures["_rid"].unique().implode()).not_()
    if rejected:
        keep = keep & in_rejected_file.not_()
    good = (
        batch.filter(keep)
        .with_columns(spec.casts())
        .select([*(c.raw for c in spec.columns), "_source_file", "_row_number"])
    )
    return good, quarantine


def _stack(spec: ExtractSpec, files: list[LandedFile]) -> pl.DataFrame:
    """Every row of the partition's files in one frame, so that each rule runs once per
    partition rather than once per file. Each row gets its file (``_source_file``), its line
    within it (``_row_number``) and its position in the batch (``_rid``, which later steps use
    to fetch a row without a join); empty and whitespace-only cells become absent values."""
    kept = [f for f in files if f.frame is not None and f.frame.height]
    frames = [f.frame for f in kept if f.frame is not None]
    raw_cols = [c.raw for c in spec.columns]
    if not frames:
        frames = [pl.DataFrame(schema={c: pl.Utf8 for c in raw_cols})]
    # Each row's file and line within it, built once for the batch from the files' heights
    # (numpy) rather than by a polars call per file: a night can hold many thousands of files.
    heights = np.array([f.height for f in frames], dtype=np.int64)
    file_of_row = pl.Series(np.repeat(np.arange(len(frames)), heights))
    row_number = np.arange(heights.sum()) - np.repeat(np.cumsum(heights) - heights, heights) + 1
    return (
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


def _rejected_files(files: list[LandedFile]) -> list[tuple[str, FileProblem]]:
    """The files quarantined whole that still have rows: each of their rows is quarantined
    with the file's problem, and no row rule runs on them (their rows cannot be trusted)."""
    return [
        (f.name, f.problem)
        for f in files
        if f.problem is not None and f.frame is not None and f.frame.height
    ]


def _misshapen(files: list[LandedFile], ok_files: pl.DataFrame) -> pl.DataFrame:
    """The ragged and truncated rows the parse found, as row failures of the batch.

    Misshapen rows are quarantined for their shape alone: their values may sit in the wrong
    columns, so value rules on them would report noise."""
    shape_problems = [
        f.row_problems.with_columns(pl.lit(f.name).alias("_source_file"))
        for f in files
        if f.row_problems is not None and f.row_problems.height
    ]
    if not shape_problems:
        return no_failures()
    return (
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
    )


def _row_failures(
    spec: ExtractSpec,
    ok_files: pl.DataFrame,
    misshapen: pl.DataFrame,
    known_practices: set[str] | None,
) -> pl.DataFrame:
    """Every row rule over the well-formed rows, with the misshapen rows' failures: one frame
    of failures (a row may fail several rules, and each failure is reported)."""
    well_formed = (
        ok_files.filter(pl.col("_rid").is_in(misshapen["_rid"].implode()).not_())
        if misshapen.height
        else ok_files
    )
    # One fused pass finds the rows the schema rejects; pandera then reports those rows'
    # failures check by check (it would otherwise make a pass over every row per check).
    suspects = well_formed.filter(spec.passes_schema().not_())
    return pl.concat(
        [
            duplicate_rows(spec, well_formed),
            schema_failures(spec, suspects),
            unknown_practices(spec, well_formed, known_practices),
            episode_failures(spec, well_formed),
            misshapen,
        ]
    )


def _pseudonymise(
    spec: ExtractSpec, batch: pl.DataFrame, failures: pl.DataFrame, key: bytes
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pseudonymise the identifier columns of the batch, and of the failures that quote them,
    before anything leaves validate_batch; withhold NHS-number-like values anywhere else."""
    # _rid is the row's position in batch, so a failure's row is fetched by position rather
    # than by a join over every row.
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
    return batch, failures.with_columns(withhold_identifiers(pl.col("failure_value")))


def _quarantine(
    batch: pl.DataFrame, failures: pl.DataFrame, rejected: list[tuple[str, FileProblem]]
) -> pl.DataFrame:
    """The quarantine rows, in QUARANTINE_SCHEMA: one per row failure (named by file and line,
    not by _rid, which means nothing outside this batch) and one per row of each file
    quarantined whole, with the file's message; sorted by file, line and check."""
    file_failures = [
        batch.filter(pl.col("_source_file") == name).select(
            "_source_file",
            "_row_number",
            pl.lit(problem.check).alias("check"),
            pl.lit(problem.column, pl.Utf8).alias("column"),
            pl.lit(None, pl.Utf8).alias("failure_value"),
            withhold_identifiers(pl.lit(problem.message, pl.Utf8)).alias("message"),
        )
        for name, problem in rejected
    ]
    return (
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

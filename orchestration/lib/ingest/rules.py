"""Row rules: each finds the rows of a batch that break one kind of rule.

Every rule returns failures in one shape (``no_failures``): ``_rid`` (the row's position in the
batch), ``check``, ``column``, ``failure_value``. orchestration.lib.ingest.validate runs them.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from pandera.errors import SchemaErrors

from orchestration.lib import zones
from orchestration.lib.settings import Settings
from schemas._base import ExtractSpec


def no_failures() -> pl.DataFrame:
    """An empty frame of row failures, in the shape every rule returns."""
    return pl.DataFrame(
        schema={"_rid": pl.Int64, "check": pl.Utf8, "column": pl.Utf8, "failure_value": pl.Utf8}
    )


def duplicate_rows(spec: ExtractSpec, batch: pl.DataFrame) -> pl.DataFrame:
    """Exact duplicate rows: the first copy is kept, later copies are quarantined.
    Same source key with different content: every copy is quarantined (we cannot know which
    one the source meant)."""
    content = [c.raw for c in spec.columns]
    if spec.key:
        # Exact copies share their key, so only rows whose key recurs in their file can be
        # either kind of duplicate: the dear whole-row comparison runs on those alone. Equal
        # keys have equal 64-bit hashes, so a row whose hash is unique in the batch is no
        # candidate; sorted hashes find the repeats (usually none) more cheaply than a hash
        # table over the key strings, which then runs on the candidates only.
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


def schema_failures(spec: ExtractSpec, batch: pl.DataFrame) -> pl.DataFrame:
    """The pandera schema's column and row rules, one failure per rule broken, without the
    failing rows' values where a rule reports a whole row."""
    if batch.is_empty():
        # No suspect rows (the fused pre-filter passed them all): pandera's set-up is a fixed
        # cost per call, not worth paying for nothing in every partition of a first load.
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


def unknown_practices(
    spec: ExtractSpec, batch: pl.DataFrame, known: set[str] | None
) -> pl.DataFrame:
    """Well-formed practice codes that no practice-mapping extract has listed (skipped, as
    ``known`` is None, before the first mapping is loaded)."""
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


def episode_failures(spec: ExtractSpec, batch: pl.DataFrame) -> pl.DataFrame:
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


def known_practice_codes(settings: Settings) -> set[str] | None:
    """Every practice code any practice-mapping extract has listed, or None before the first
    mapping has been loaded (then the check is skipped and says so)."""
    mapping = zones.read_zone(settings.raw / "ref_practice_mapping")
    if mapping.is_empty():
        return None
    return set(mapping["practice_code"].unique().to_list())

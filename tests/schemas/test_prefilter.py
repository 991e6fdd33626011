"""The ingest finds rejected rows with one fused expression (``ExtractSpec.passes_schema``) and
asks pandera only about those. That is safe only if the two never disagree: a row the fused
expression passes must be a row pandera passes, or a bad row would reach the raw zone
unreported. Here both judge estate rows, and copies of them with one value spoilt in every way
the bad-input corpus spoils values, for every extract."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from pandera.errors import SchemaErrors

import schemas
from orchestration.lib.ingest import conform_columns
from orchestration.lib.ingest.parse import decode

FILE_SPECS = [s for s in schemas.EXTRACTS.values() if not s.table.startswith("cms_")]
SPOILT = [None, "", " ", "abc", "1,234", "99/99/9999", "2099-01-01", "31/12/1899", "z10001 ",
          "9434765918", "943 476 5919", "-1", "6", "11", "Strongly agreee"]  # fmt: skip


def estate_rows(tiny_estate: Path, spec: schemas.ExtractSpec) -> pl.DataFrame:
    files = [
        p
        for p in sorted((tiny_estate / "landing" / spec.source).glob("*/*"))
        if spec.file_regex.match(p.name)
    ]
    body, _ = decode(files[-1].read_bytes())
    frame = pl.read_csv(io.BytesIO(body), separator=spec.delimiter, infer_schema=False)
    return conform_columns(spec, frame, files[-1].name, "", "utf-8").frame.head(40)


def pandera_rejects(spec: schemas.ExtractSpec, frame: pl.DataFrame) -> set[int]:
    try:
        spec.schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        return set(err.failure_cases["index"].drop_nulls().cast(pl.Int64).to_list())
    return set()


@pytest.mark.parametrize("spec", FILE_SPECS, ids=lambda s: s.table)
def test_fused_expression_and_pandera_reject_the_same_rows(
    tiny_estate: Path, spec: schemas.ExtractSpec
) -> None:
    good = estate_rows(tiny_estate, spec)
    spoilt = [
        good.head(1).with_columns(pl.lit(value, pl.Utf8).alias(column))
        for column in good.columns
        for value in SPOILT
    ]
    frame = pl.concat([good, *spoilt])
    fused = set(
        frame.with_row_index().filter(spec.passes_schema().not_())["index"].cast(pl.Int64).to_list()
    )
    assert fused == pandera_rejects(spec, frame)
    # Not vacuous: estate rows pass, and a missing value fails in every non-nullable column.
    assert not fused & set(range(good.height))
    for i, column in enumerate(good.columns):
        nullable = next(c.nullable for c in spec.columns if c.raw == column)
        assert (good.height + i * len(SPOILT) in fused) is not nullable, column

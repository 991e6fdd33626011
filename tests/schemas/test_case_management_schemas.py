"""The case-management tables against their schemas, as the pull reads them from the estate's
reporting database: the database has exactly the schema's columns, estate rows pass, the fused
pre-filter and pandera reject the same spoilt rows, and the planted defects of the Social
Prescribing Information Standard's tables (needs and concerns, support offered) fail with the
planted rule and nothing else."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest
from pandera.errors import SchemaErrors

from estate.cms import NEED_IDENTIFIED_BY, NEEDS, SUPPORT_TYPES
from estate.manifest import load_manifest
from orchestration.lib.case_management import _landed
from schemas import case_management
from schemas._base import ExtractSpec

TABLES = list(case_management.DB_TABLES.items())
# The bad-input corpus of test_prefilter, and the labels a system may send instead of the
# value sets' own.
SPOILT = [None, "", " ", "abc", "99/99/9999", "2099-01-01", "-1", "Loneliness", "Referrer "]


def database(tiny_estate: Path) -> Path:
    return tiny_estate / "sources" / "case_management" / "cms_reporting.sqlite"


def table_rows(tiny_estate: Path, table: str, spec: ExtractSpec) -> pl.DataFrame:
    """Every row of a database table as the pull lands it (strings, raw column names)."""
    with sqlite3.connect(database(tiny_estate)) as con:
        cur = con.execute(f"select * from {table}")  # a schema constant, not data
        columns = [d[0] for d in cur.description]
        frame = pl.DataFrame(cur.fetchall(), schema=columns, orient="row", infer_schema_length=None)
    return _landed(spec, f"cms_reporting.{table}", frame).frame


def rejected(spec: ExtractSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """pandera's failure cases (row index, check), empty when every row passes."""
    try:
        spec.schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        return err.failure_cases.select("index", "check", "column")
    return pl.DataFrame(schema={"index": pl.Int32, "check": pl.Utf8, "column": pl.Utf8})


def test_value_sets_are_one_list_in_the_estate_and_the_schema() -> None:
    assert tuple(NEEDS) == case_management.NEEDS
    assert tuple(SUPPORT_TYPES) == case_management.SUPPORT_TYPES
    assert tuple(NEED_IDENTIFIED_BY) == case_management.NEED_IDENTIFIED_BY


@pytest.mark.parametrize(("table", "spec"), TABLES, ids=[t for t, _ in TABLES])
def test_database_tables_carry_exactly_the_schema_columns(
    tiny_estate: Path, table: str, spec: ExtractSpec
) -> None:
    with sqlite3.connect(database(tiny_estate)) as con:
        columns = [r[1] for r in con.execute(f"pragma table_info({table})")]
    assert columns == [c.header for c in spec.columns]


@pytest.mark.parametrize(("table", "spec"), TABLES, ids=[t for t, _ in TABLES])
def test_estate_rows_pass_but_planted_defects(
    tiny_estate: Path, table: str, spec: ExtractSpec
) -> None:
    """Every failure is a planted one, named by its planted rule on its planted column, as
    many as the manifest says (none for the tables with no planted defect)."""
    frame = table_rows(tiny_estate, table, spec)
    assert frame.height > 0
    planted = [d for d in load_manifest(tiny_estate)["defects"] if d["table"] == spec.table]
    failures = rejected(spec, frame)
    counts = failures.group_by("check", "column").agg(pl.col("index").n_unique().alias("rows"))
    got = {(r["check"], r["column"]): r["rows"] for r in counts.iter_rows(named=True)}
    assert got == {(d["check"], d["column"]): d["count"] for d in planted}


def test_the_standards_tables_have_planted_defects(tiny_estate: Path) -> None:
    """Not vacuous: both new tables carry planted defects, on the value-set rules."""
    planted = {d["table"]: d["check"] for d in load_manifest(tiny_estate)["defects"]}
    assert planted["cms_referral_needs"] == "allowed_need"
    assert planted["cms_support_offers"] == "allowed_support_type"


@pytest.mark.parametrize(("table", "spec"), TABLES, ids=[t for t, _ in TABLES])
def test_fused_expression_and_pandera_reject_the_same_rows(
    tiny_estate: Path, table: str, spec: ExtractSpec
) -> None:
    good = table_rows(tiny_estate, table, spec)
    good = good.filter(spec.passes_schema()).head(40)
    spoilt = [
        good.head(1).with_columns(pl.lit(value, pl.Utf8).alias(column))
        for column in good.columns
        for value in SPOILT
    ]
    frame = pl.concat([good, *spoilt])
    fused = set(
        frame.with_row_index().filter(spec.passes_schema().not_())["index"].cast(pl.Int64).to_list()
    )
    by_pandera = set(rejected(spec, frame)["index"].drop_nulls().cast(pl.Int64).to_list())
    assert fused == by_pandera
    assert not fused & set(range(good.height))
    for i, column in enumerate(good.columns):
        nullable = next(c.nullable for c in spec.columns if c.raw == column)
        assert (good.height + i * len(SPOILT) in fused) is not nullable, column

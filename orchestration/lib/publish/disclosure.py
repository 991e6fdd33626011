"""Disclosure control, checked on every table before it is published: no patient-level column
in either audience, and in ``public`` no count a reader could see that is 1-7 or not rounded to
5, no secondary-suppression group with exactly one suppressed cell."""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from orchestration.lib import engines
from orchestration.lib.publish.marts import PUBLIC, DisclosureError, Mart, quote
from orchestration.lib.settings import Settings

# Columns that would make a table patient-level (or re-identifying) whatever its tags say:
# person and record identifiers, birth dates, small-area and address codes.
PATIENT_LEVEL_COLUMN = re.compile(
    r"(^|_)(person_id|patient_id|pseudonym|nhs_number|nhs_no|episode_id|referral_id|"
    r"birth|dob|lsoa|msoa|postcode|post_code|address)(_|$)",
    re.IGNORECASE,
)
DATE_TYPES = {"DATE"}
TIMESTAMP_PREFIXES = ("TIMESTAMP", "TIME", "DATETIME")
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT"}
INTEGER_TYPES |= {"UINTEGER", "UBIGINT", "INT", "INT4", "INT8", "INT2"}


def disclosure_problems(
    con: duckdb.DuckDBPyConnection, marts: list[Mart], schema: str | None = None
) -> list[str]:
    """Why these tables must not be published (empty when they may be).

    Every audience:

    * no column whose name marks patient-level data (person, episode or referral ids, NHS
      number, birth dates, LSOA, postcode, ...);
    * no day-level dates: every date is the first of a month unless the column is declared a
      period boundary (``meta.disclosure: period_boundary``, e.g. a census date), and no
      timestamps at all.

    The ``public`` audience also (``internal`` holds exact counts by design):

    * rates, means, flags and secondary counts (``meta.disclosure.derived_from``) are null on
      every row where a count they derive from is suppressed (null);
    * every table says what disclosure control did (``disclosure_status``);
    * on every row not marked ``exempt``, every integer column not declared ``not_a_count`` is
      null, 0 or a multiple of 5 of at least 10: a 1-7 would be an unsuppressed small count, and
      anything else an unrounded one;
    * secondary suppression held: no group (a total and its parts, from the model's
      ``meta.disclosure.groups``) has exactly one suppressed (null) primary count, which a reader
      could recover from the others.
    """
    problems: list[str] = []
    for mart in marts:
        table = f"{quote(schema)}.{quote(mart.name)}" if schema else quote(mart.name)
        described = con.sql(f"describe {table}").fetchall()
        types = {row[0]: row[1].upper() for row in described}
        for column, dtype in types.items():
            if PATIENT_LEVEL_COLUMN.search(column):
                problems.append(f"{mart.name}.{column}: patient-level column")
            elif dtype.startswith(TIMESTAMP_PREFIXES):
                problems.append(f"{mart.name}.{column}: timestamp column (day-level or finer)")
            elif dtype in DATE_TYPES and column not in mart.period_boundaries:
                c = quote(column)
                (day_level,) = con.sql(
                    f"select count(*) from {table} where {c} is not null "
                    f"and extract(day from {c}) <> 1"
                ).fetchall()[0]
                if day_level:
                    problems.append(
                        f"{mart.name}.{column}: {day_level} day-level date(s) "
                        "(not the first of a month, and not declared a period boundary)"
                    )
        if mart.audience != PUBLIC:
            continue
        for column, sources in mart.derived.items():
            missing = [c for c in (column, *sources) if c not in types]
            if missing:
                problems.append(f"{mart.name}.{column}: derived_from names no column {missing}")
                continue
            hidden = " or ".join(f"{quote(c)} is null" for c in sources)
            (shown,) = con.sql(
                f"select count(*) from {table} where {quote(column)} is not null and ({hidden})"
            ).fetchall()[0]
            if shown:
                problems.append(
                    f"{mart.name}.{column}: {shown} value(s) shown where a count it derives "
                    f"from ({', '.join(sources)}) is suppressed"
                )
        if "disclosure_status" not in types:
            problems.append(f"{mart.name}: no disclosure_status column")
            continue
        for column, dtype in types.items():
            if dtype not in INTEGER_TYPES or column in mart.not_counts:
                continue
            c = quote(column)
            small, unrounded = con.sql(
                f"select count(*) filter (where {c} between 1 and 7), "
                f"count(*) filter (where {c} > 7 and {c} % 5 <> 0) "
                f"from {table} where disclosure_status <> 'exempt'"
            ).fetchall()[0]
            if small:
                problems.append(f"{mart.name}.{column}: {small} unsuppressed count(s) of 1-7")
            if unrounded:
                problems.append(f"{mart.name}.{column}: {unrounded} count(s) not rounded to 5")
        problems += _group_problems(con, mart, table, types)
    return problems


def _group_problems(
    con: duckdb.DuckDBPyConnection, mart: Mart, table: str, types: dict[str, str]
) -> list[str]:
    """Groups of two or more cells with exactly one suppressed. (A group of one cell has no
    other cell to recover it from.) The group conditions and partitions are SQL from the dbt
    project (the model's meta), never from data."""
    if not mart.groups:
        return []
    if mart.primary_count not in types:
        return [f"{mart.name}: meta.disclosure.primary_count {mart.primary_count!r} not a column"]
    count = quote(mart.primary_count)
    problems = []
    for number, group in enumerate(mart.groups, start=1):
        partition = ", ".join(group["partition"])
        (singles,) = con.sql(
            f"select count(*) from (select {partition}, "
            f"count(*) filter (where {count} is null) as suppressed, "
            f"count(*) as cells "
            f"from {table} where {group['where']} group by all) as groups "
            f"where suppressed = 1 and cells > 1"
        ).fetchall()[0]
        if singles:
            problems.append(
                f"{mart.name}: {singles} group(s) of secondary-suppression group {number} "
                f"({group['where']}; by {partition}) with exactly one suppressed cell"
            )
    return problems


def read_marts(settings: Settings, marts: list[Mart]) -> dict[str, pa.Table]:
    """Every published model from the warehouse, read in one read-only connection (one
    consistent state of the warehouse), after the disclosure check (raises if any)."""
    with engines.open_warehouse(settings, [(m.schema, m.name) for m in marts]) as src:
        problems = disclosure_problems(src, marts, schema=marts[0].schema if marts else None)
        if problems:
            raise DisclosureError("refusing to publish:\n  " + "\n  ".join(problems))
        return {
            m.name: src.sql(f"select * from {quote(m.schema)}.{quote(m.name)}").to_arrow_table()
            for m in marts
        }

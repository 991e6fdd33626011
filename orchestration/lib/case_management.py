"""The case-management system: pulled from its reporting database over SQLAlchemy,
incrementally by a high-water mark on ``last_modified``, or read from its JSON export for
systems that only export files. Both paths feed the same validation as landed CSVs.

Incremental by whole months: a pull re-reads every row changed on or after the first day of
the high-water mark's month (a date prefix compares correctly whatever timestamp format the
database stores) and writes one raw-zone partition per change month (labelled with its first
day), replacing that month whole. A rerun therefore gives identical partitions; a nightly pull
re-reads only the current month; a record changed again later appears in a later partition
too, and staging keeps the latest version per key. (Days would be exact too, but a few years
of history is then thousands of tiny partitions.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from orchestration.lib import zones
from orchestration.lib.ingest import (
    LandedFile,
    PartitionResult,
    UnreadableError,
    conform_columns,
    known_practice_codes,
    load_partition,
    quarantine_whole_file,
)
from orchestration.lib.ingest.landing import DATE_DIR
from orchestration.lib.settings import Settings
from schemas._base import ExtractSpec
from schemas.case_management import DB_TABLES, OPTIONAL_DB_TABLES


def spec_header(spec: ExtractSpec, raw: str) -> str:
    return next(c.header for c in spec.columns if c.raw == raw)


def high_water_mark(settings: Settings, spec: ExtractSpec) -> dt.datetime | None:
    return zones.max_value(settings.raw / spec.table, "last_modified")


def _as_strings(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S")
        if frame.schema[c] in (pl.Datetime, pl.Datetime("us"))
        else pl.col(c).cast(pl.Utf8)
        for c in frame.columns
    )


def _landed(spec: ExtractSpec, name: str, frame: pl.DataFrame) -> LandedFile:
    frame = _as_strings(frame)
    digest = hashlib.sha256(frame.write_csv().encode()).hexdigest()
    return conform_columns(spec, frame, name, digest, "utf-8")


def _by_change_month(frame: pl.DataFrame) -> dict[dt.date, pl.DataFrame]:
    """Split a pull by the month of last_modified; rows whose timestamp cannot be read go with
    the newest month (and are quarantined there by the date rule)."""
    month = pl.col("last_modified").cast(pl.Utf8).str.slice(0, 7).str.to_date("%Y-%m", strict=False)
    frame = frame.with_columns(month.alias("_day"))
    newest = frame["_day"].max() or dt.date.today().replace(day=1)
    frame = frame.with_columns(pl.col("_day").fill_null(newest))
    return {d: part.drop("_day") for (d,), part in frame.group_by("_day", maintain_order=True)}


def missing_sqlite_file(url: str) -> Path | None:
    """The database file a SQLite URL names, when it does not exist (else None)."""
    parsed = sa.engine.make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def pull_database(
    settings: Settings,
    run_id: str,
    engine: sa.Engine | None = None,
    absent: list[str] | None = None,
) -> list[PartitionResult]:
    """Pull rows changed since the last pull, table by table. Parameters are bound, never
    formatted into the SQL. A table the Social Prescribing Information Standard added
    (OPTIONAL_DB_TABLES) that the database does not have is skipped and its name appended to
    ``absent``: a system that predates the standard still loads its referrals."""
    engine = engine or sa.create_engine(settings.cms_url)
    known = known_practice_codes(settings)
    results = []
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        for table, spec in DB_TABLES.items():
            if table in OPTIONAL_DB_TABLES and table not in tables:
                if absent is not None:
                    absent.append(table)
                continue
            # Select by the database's own column names; conform_columns renames them.
            selected: list[sa.ColumnClause[Any]] = [sa.column(c.header) for c in spec.columns]
            query = sa.select(*selected).select_from(sa.table(table))
            hwm = high_water_mark(settings, spec)
            if hwm is not None:
                query = query.where(
                    sa.column("last_modified") >= hwm.date().replace(day=1).isoformat()
                )
            query = query.order_by(*[sa.column(spec_header(spec, k)) for k in spec.key])
            frame = pl.read_database(query, conn, infer_schema_length=None)
            if frame.is_empty():
                continue
            for month, part in sorted(_by_change_month(frame).items()):
                landed = _landed(spec, f"cms_reporting.{table}", part)
                results.append(
                    load_partition(
                        settings,
                        spec,
                        month,
                        [landed],
                        run_id,
                        known if spec.practice_column else None,
                    )
                )
    return results


def read_json_export(path: Path) -> dict[str, pl.DataFrame]:
    """Flatten the nested export (referrals with their contacts, onward referrals, outcome
    measures, needs and concerns and support offered) into the database's tables, without a
    Python loop over records. A kind of child an export does not carry gives no rows."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("referrals"), list):
        raise UnreadableError("no top-level 'referrals' list")
    referrals = pl.DataFrame(doc["referrals"], infer_schema_length=None)
    if "referral_id" not in referrals.columns:
        raise UnreadableError("referrals carry no 'referral_id'")
    children = [t for t in DB_TABLES if t != "referrals"]
    out = {"referrals": referrals.drop([c for c in children if c in referrals.columns])}
    for child in children:
        # absent, or every referral's list empty (polars then types it List(Null)): no rows
        dtype = referrals.schema.get(child)
        if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
            out[child] = pl.DataFrame()
            continue
        out[child] = (
            referrals.select("referral_id", child)
            .explode(child)
            .filter(pl.col(child).is_not_null())
            .unnest(child)
        )
    return out


def unreadable_export(path: Path, exc: Exception) -> LandedFile:
    """An export that cannot be parsed is quarantined whole, as one row of cms_referrals (its
    top-level table): its records cannot be counted, but the file must not vanish from the
    accounts. Only our own reasons and the JSON parser's position are quoted, never content."""
    if isinstance(exc, UnreadableError):
        reason = str(exc)
    elif isinstance(exc, json.JSONDecodeError):
        reason = f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    else:
        reason = type(exc).__name__
    return quarantine_whole_file(
        path.name,
        hashlib.sha256(path.read_bytes()).hexdigest(),
        "utf-8",
        1,
        "unreadable_file",
        f"{path.name}: not a readable case-management export ({reason}); quarantined whole",
    )


def load_json_exports(settings: Settings, run_id: str) -> list[PartitionResult]:
    """Every export of an extract date goes into one load per table, so that two exports in
    the same folder add up rather than the second replacing the first's partition."""
    known = known_practice_codes(settings)
    results = []
    root = settings.landing / "case_management"
    # Only date folders: anything else is reported by landing_accounted, never read as a date.
    folders = [p for p in root.glob("*") if p.is_dir() and DATE_DIR.match(p.name)]
    for folder in sorted(folders) if root.exists() else []:
        landed: dict[str, list[LandedFile]] = {table: [] for table in DB_TABLES}
        for path in sorted(folder.glob("cms_export_*.json")):
            try:
                tables = read_json_export(path)
            except Exception as exc:  # a broken export must not stop the others loading
                landed["referrals"].append(unreadable_export(path, exc))
                continue
            for table, spec in DB_TABLES.items():
                if not tables[table].is_empty():
                    landed[table].append(_landed(spec, f"{path.name}#{table}", tables[table]))
        for table, files in landed.items():
            if not files:
                continue
            spec = DB_TABLES[table]
            results.append(
                load_partition(
                    settings,
                    spec,
                    dt.date.fromisoformat(folder.name),
                    files,
                    run_id,
                    known if spec.practice_column else None,
                )
            )
    return results

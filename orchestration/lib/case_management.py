"""The case-management system: pulled from its reporting database over SQLAlchemy,
incrementally by a high-water mark on ``last_modified``, or read from its JSON export for
systems that only export files. Both paths feed the same validation as landed CSVs.

Each pull lands in the raw-zone partition named after the date of its newest change, so the
raw zone holds every version of a record that was pulled; staging keeps the latest per key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from orchestration.lib import zones
from orchestration.lib.ingest import LandedFile, PartitionResult, conform_columns, known_practice_codes, load_partition
from orchestration.lib.settings import Settings
from schemas._base import ExtractSpec
from schemas.case_management import DB_TABLES


def spec_header(spec: ExtractSpec, raw: str) -> str:
    return next(c.header for c in spec.columns if c.raw == raw)


def high_water_mark(settings: Settings, spec: ExtractSpec) -> dt.datetime | None:
    raw = zones.read_zone(settings.raw / spec.table)
    if raw.is_empty() or raw["last_modified"].null_count() == raw.height:
        return None
    return raw["last_modified"].max()


def _as_strings(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S") if frame.schema[c] in (pl.Datetime, pl.Datetime("us"))
        else pl.col(c).cast(pl.Utf8)
        for c in frame.columns
    )


def _landed(spec: ExtractSpec, name: str, frame: pl.DataFrame) -> LandedFile:
    frame = _as_strings(frame)
    digest = hashlib.sha256(frame.write_csv().encode()).hexdigest()
    return conform_columns(spec, frame, name, digest, "utf-8")


def _partition_date(landed: LandedFile) -> dt.date:
    stamps = landed.frame["last_modified"].str.to_datetime(strict=False) if landed.frame is not None else None
    newest = stamps.max() if stamps is not None else None
    return newest.date() if newest is not None else dt.date.today()


def pull_database(settings: Settings, run_id: str, engine: sa.Engine | None = None) -> list[PartitionResult]:
    """Pull rows changed since the last pull, table by table. Parameters are bound, never
    formatted into the SQL."""
    engine = engine or sa.create_engine(settings.cms_url)
    known = known_practice_codes(settings)
    results = []
    with engine.connect() as conn:
        for table, spec in DB_TABLES.items():
            # Select by the database's own column names; conform_columns renames them.
            cols = [sa.column(c.header) for c in spec.columns]
            query = sa.select(*cols).select_from(sa.table(table))
            hwm = high_water_mark(settings, spec)
            if hwm is not None:
                query = query.where(sa.column("last_modified") > hwm.strftime("%Y-%m-%d %H:%M:%S"))
            query = query.order_by(*[sa.column(spec_header(spec, k)) for k in spec.key])
            frame = pl.read_database(query, conn, infer_schema_length=None)
            if frame.is_empty():
                continue
            landed = _landed(spec, f"cms_reporting.{table}", frame)
            results.append(load_partition(settings, spec, _partition_date(landed), [landed], run_id,
                                          known if spec.practice_column else None))
    return results


def read_json_export(path: Path) -> dict[str, pl.DataFrame]:
    """Flatten the nested export (referrals with their contacts, onward referrals and outcome
    measures) into the four database tables, without a Python loop over records."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    referrals = pl.DataFrame(doc["referrals"], infer_schema_length=None)
    out = {"referrals": referrals.drop([c for c in ("contacts", "onward_referrals", "outcome_measures") if c in referrals.columns])}
    for child in ("contacts", "onward_referrals", "outcome_measures"):
        if child not in referrals.columns:
            out[child] = pl.DataFrame()
            continue
        out[child] = (referrals.select("referral_id", child).explode(child)
                      .filter(pl.col(child).is_not_null()).unnest(child))
    return out


def load_json_exports(settings: Settings, run_id: str) -> list[PartitionResult]:
    known = known_practice_codes(settings)
    results = []
    root = settings.landing / "case_management"
    for folder in sorted(p for p in root.glob("*") if p.is_dir()) if root.exists() else []:
        for path in sorted(folder.glob("cms_export_*.json")):
            tables = read_json_export(path)
            for table, spec in DB_TABLES.items():
                landed = _landed(spec, f"{path.name}#{table}", tables[table])
                results.append(load_partition(settings, spec, dt.date.fromisoformat(folder.name), [landed],
                                              run_id, known if spec.practice_column else None))
    return results

"""The whole nightly pipeline on the `tiny` estate: the real Dagster job (as `make pipeline`
runs it), real dbt, real DuckDB. One run per test session (`pipeline_tiny` in tests/conftest.py), shared with tests/warehouse.

What it proves:
* nothing lost — for every file, rows read = rows loaded + rows quarantined, and the zones
  hold exactly what the audit says;
* the estate's planted defects are exactly what the quarantine holds, check by check;
* every mart is built and non-empty, and the published file holds the aggregate marts only;
* nothing leaked — no NHS number from the input appears in the warehouse, the Parquet zones,
  the published file, the Dagster event log or the run's captured output.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest

from orchestration.lib.checks import reconcile
from orchestration.lib.ingest import latest_audit
from orchestration.lib.settings import Settings, resolve_settings
from schemas import EXTRACTS

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
TEN_DIGITS = re.compile(rb"(?<!\d)\d{10}(?!\d)")


@pytest.fixture(scope="module")
def run(pipeline_tiny: PipelineRun) -> PipelineRun:
    """The session's single pipeline run on the tiny estate (tests/conftest.py)."""
    return pipeline_tiny


@pytest.fixture(scope="module")
def settings(run: PipelineRun) -> Settings:
    """The settings of the run's data directory, handed to the helpers that read the zones."""
    return resolve_settings({"data_dir": str(run.data)})


def input_nhs_numbers(data: Path) -> set[bytes]:
    """Every 10-digit token in the landed files and the case-management database."""
    found: set[bytes] = set()
    for path in (data / "landing").rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json"):
            found |= set(TEN_DIGITS.findall(path.read_bytes()))
    db = data / "sources" / "case_management" / "cms_reporting.sqlite"
    with sqlite3.connect(db) as con:
        found |= {
            str(r[0]).encode() for r in con.execute("select nhs_number from referrals") if r[0]
        }
    return {n for n in found if n.startswith(b"999")}  # the estate's NHS numbers are all 999…


def test_the_run_succeeds_and_says_what_it_did(run: PipelineRun) -> None:
    assert run.returncode == 0, run.output[-4000:]
    assert "Nightly pipeline SUCCEEDED" in run.output
    assert "DEVELOPMENT key" in run.output, "the demo must say it uses the development key"
    assert "0 failed" in run.output


def test_every_row_read_is_loaded_or_quarantined(settings: Settings) -> None:
    for table in EXTRACTS:
        audit = latest_audit(settings, table)
        assert not audit.is_empty(), f"{table}: nothing ingested"
        bad = audit.filter(
            pl.col("rows_read") != pl.col("rows_loaded") + pl.col("rows_quarantined")
        )
        assert bad.is_empty(), (
            f"{table}: files that do not reconcile: {bad['source_file'].to_list()}"
        )
        ok, figures = reconcile(table, settings)
        assert ok, f"{table}: {figures}"


def test_every_landed_row_is_accounted_for_against_the_estate(
    run: PipelineRun, settings: Settings
) -> None:
    for table, written in run.manifest["row_counts"].items():
        audit = latest_audit(settings, table)
        assert int(audit["rows_read"].sum()) == written, table


def test_planted_defects_are_exactly_what_is_quarantined(run: PipelineRun) -> None:
    planted: dict[str, dict[str, int]] = {}
    for defect in run.manifest["defects"]:
        planted.setdefault(defect["table"], {})[defect["check"]] = defect["count"]
    for table in EXTRACTS:
        q = (
            pl.read_parquet(
                run.data / "quarantine" / table / "*" / "*.parquet", hive_partitioning=True
            )
            if (run.data / "quarantine" / table).exists()
            else pl.DataFrame()
        )
        got = (
            {}
            if q.is_empty()
            else dict(
                q.group_by("check")
                .agg(pl.struct("extract_date", "_source_file", "_row_number").n_unique())
                .iter_rows()
            )
        )
        assert got == planted.get(table, {}), (
            f"{table}: quarantined {got}, planted {planted.get(table, {})}"
        )


def test_the_cp1252_file_is_decoded_and_recorded(run: PipelineRun, settings: Settings) -> None:
    name = Path(run.manifest["clinician_survey"]["cp1252_file"]).name
    audit = latest_audit(settings, "survey_clinician_training").filter(
        pl.col("source_file") == name
    )
    assert audit["encoding"].to_list() == ["cp1252"]
    assert audit["rows_quarantined"].to_list() == [0]


def test_every_mart_is_built_and_non_empty(run: PipelineRun) -> None:
    manifest = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    marts = [
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["fqn"][1] == "marts"
    ]
    families = {
        "fct_referrals",
        "fct_wellbeing_outcomes",
        "fct_workforce_pcn_month",
        "fct_utilisation_savings",
    }
    assert families <= set(marts), "one mart per family at least"
    with duckdb.connect(str(run.data / "warehouse.duckdb"), read_only=True) as con:
        for mart in marts:
            assert con.execute(f'select count(*) from "{mart}"').fetchone()[0] > 0, (
                f"{mart} is empty"
            )


def test_published_file_holds_aggregate_marts_only(run: PipelineRun) -> None:
    with duckdb.connect(str(run.data / "published" / "marts.duckdb"), read_only=True) as con:
        tables = {
            r[0] for r in con.sql("select table_name from information_schema.tables").fetchall()
        }
        columns = {
            r[0] for r in con.sql("select column_name from information_schema.columns").fetchall()
        }
    assert "pub_workforce_pcn_month" in tables and "_publication" in tables
    assert all(t.startswith("pub_") or t == "_publication" for t in tables), (
        "only the published layer"
    )
    assert "fct_utilisation_person" not in tables, "patient-level marts are never published"
    assert "person_id" not in columns


def test_no_nhs_number_in_warehouse_zones_published_file(run: PipelineRun) -> None:
    numbers = input_nhs_numbers(run.data)
    assert len(numbers) > 1000, "the scan must have something to look for"
    con = duckdb.connect()
    con.register("nhs", pl.DataFrame({"n": [n.decode() for n in numbers]}).to_arrow())
    con.execute("create table inputs as select n from nhs")
    sources = {
        f"raw/{t}": f"read_parquet('{run.data}/raw/{t}/*/*.parquet', union_by_name=true)"
        for t in EXTRACTS
    }
    sources |= {
        f"quarantine/{t}": f"read_parquet('{run.data}/quarantine/{t}/*/*.parquet')"
        for t in EXTRACTS
        if (run.data / "quarantine" / t).exists()
    }
    audit = run.data / "audit" / "loads"
    assert list(audit.rglob("*.parquet")), "the audit zone must be scanned"
    sources["audit/loads"] = f"read_parquet('{audit}/*/*/*.parquet', union_by_name=true)"
    # Attached under their own names (warehouse, marts): dbt's views name their catalog.
    con.execute(f"attach '{run.data / 'warehouse.duckdb'}' (read_only)")
    con.execute(f"attach '{run.data / 'published' / 'marts.duckdb'}' (read_only)")
    internal = run.data / "published" / "internal" / "marts.duckdb"
    con.execute(f"attach '{internal}' as internal_marts (read_only)")
    for db in ("warehouse", "marts", "internal_marts"):
        relations = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = $db "
            "union all select schema_name, view_name from duckdb_views() "
            "where database_name = $db and not internal",
            {"db": db},
        ).fetchall()
        for schema, table in relations:
            sources[f"{db}.{schema}.{table}"] = f'{db}."{schema}"."{table}"'
    assert any(".audit.quarantine" in name for name in sources), "views are scanned too"
    leaks = {}
    for name, relation in sources.items():
        empty = con.sql(f"select * from {relation} limit 0")
        text_cols = [
            c for c, t in zip(empty.columns, empty.types, strict=True) if str(t) == "VARCHAR"
        ]
        for col in text_cols:
            hits = con.execute(
                f"select count(*) from (select unnest(regexp_extract_all(\"{col}\", '\\d{{10}}')) as m from {relation}) "
                "where m in (select n from inputs)"
            ).fetchone()[0]
            if hits:
                leaks[f"{name}.{col}"] = hits
    assert leaks == {}, f"raw NHS numbers found in: {sorted(leaks)}"


def test_no_nhs_number_in_dagster_event_log_or_run_output(run: PipelineRun) -> None:
    numbers = input_nhs_numbers(run.data)
    leaks = set(TEN_DIGITS.findall(run.output.encode())) & numbers
    for path in run.dagster_home.rglob("*"):
        if path.is_file():
            leaks |= set(TEN_DIGITS.findall(path.read_bytes())) & numbers
    assert not leaks, f"{len(leaks)} input NHS number(s) found in Dagster storage or logs"

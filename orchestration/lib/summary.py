"""The end-of-run summary printed by `make run` / `make pipeline`: what was read, loaded and
quarantined per source, which marts were built, which checks passed, and where to look next."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl

from orchestration.lib.checks import LANDING_ACCOUNTED
from orchestration.lib.ingest import latest_audit
from orchestration.lib.publish.marts import (
    INTERNAL,
    PUBLIC,
    PUBLISHED_FILE,
    Mart,
    audience_dir,
    publishable_marts,
    quote,
)
from orchestration.lib.settings import Settings
from schemas import EXTRACTS

# Link-worker posts per PCN in the latest census month: the workforce question in one line.
EXAMPLE_SQL = (
    "select pcn_code, census_month, splw_headcount, splw_fte, has_link_worker "
    "from pub_workforce_pcn_month order by census_month desc, pcn_code limit 10"
)


def _check_outcomes(events: list[Any]) -> tuple[int, int, int, list[str]]:
    passed = failed = warned = 0
    failures = []
    for event in events:
        if event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            continue
        ev = event.event_specific_data
        if ev.passed:
            passed += 1
        elif ev.severity == dg.AssetCheckSeverity.WARN:
            warned += 1
            failures.append(f"WARN  {ev.asset_key.to_user_string()}:{ev.check_name}")
        else:
            failed += 1
            failures.append(f"ERROR {ev.asset_key.to_user_string()}:{ev.check_name}")
    return passed, warned, failed, failures


def _unrecognised_files(events: list[Any]) -> tuple[int, list[dict[str, str]]]:
    """How many files the landing_accounted check found unrecognised, and those it named (file
    and reason; the first 100)."""
    count, named = 0, []
    for event in events:
        if event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            continue
        ev = event.event_specific_data
        if ev.check_name == LANDING_ACCOUNTED:
            total, listed = ev.metadata.get("unrecognised"), ev.metadata.get("unrecognised_files")
            count = int(total.value) if total is not None else 0
            named = list(listed.value) if listed is not None else []
    return count, named


def _print_what_failed(results: list[Any], events: list[Any]) -> None:
    """Lead a failed run's summary with what failed and why: each failed step's error."""
    print("What failed:")
    failed_steps = [e for e in events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    for event in failed_steps[:10]:
        error = event.event_specific_data.error
        cause = error.cause if error is not None and error.cause is not None else error
        reason = (cause.message if cause is not None else "no error recorded").strip()
        first = reason.splitlines()[0] if reason else reason
        # "package.module.SomeError: text" -> "text (SomeError)": the reason first.
        name, sep, text = first.partition(": ")
        if sep and cause is not None and name.endswith(cause.cls_name or "\0"):
            first = f"{text} ({cause.cls_name})"
        print(f"  step {event.step_key}: {first}")
    if not failed_steps:
        print("  no step failed; a check failed or the run stopped (see its event log)")
    if len(results) == 1:
        print("  nothing was published: publishing runs only after a successful nightly run")
    print()


def _print_where_to_look(settings: Settings, dagster_home: Path) -> None:
    """Where to look next: only what exists (a failed first run may have built nothing)."""
    published = settings.published / PUBLISHED_FILE
    print("\nWhere to look next")
    if published.exists():
        print(f"""  Published marts (for analysts and BI tools): {published}
      .venv/bin/duckdb -readonly {published}   (the DuckDB CLI, installed in the venv)
      or: .venv/bin/python -c "import duckdb; print(duckdb.connect('{published}', read_only=True).sql('{EXAMPLE_SQL}'))"
      example: {EXAMPLE_SQL};""")
    internal = audience_dir(settings.published, INTERNAL) / PUBLISHED_FILE
    if internal.exists():
        print(f"  Internal marts (exact counts, the ICB's own analysts only): {internal}")
    if settings.dbt_target == "postgres":
        print("  Warehouse (PostgreSQL, SP_WAREHOUSE_POSTGRES_URL): schemas raw and analytics")
    elif settings.dbt_target == "spark":
        print(f"  Warehouse (Spark tables, Parquet):           {settings.data_dir / 'spark'}")
    elif settings.warehouse.exists():
        print(f"  Warehouse (dbt's alone, do not hold it open): {settings.warehouse}")
    zones = [str(z) for z in settings.zones if z.exists()]
    if zones:
        print(f"  Raw / quarantine / audit zones (Parquet):    {', '.join(zones)}")
    print(
        "  Dagster UI with this run and the lineage:    make ui   "
        f"(then http://127.0.0.1:3000; DAGSTER_HOME={dagster_home})\n"
    )


def empty_by_design(published_file: Path, marts: list[Mart]) -> list[str]:
    """The public tables published with no row that declare why (``meta.empty_until``, e.g.
    until the data covers a whole 12-month window), one line per reason; a table that may be
    empty and is not, or one that declares nothing, is not listed."""
    declared = {m.name: m.empty_until for m in marts if m.empty_until and m.audience == PUBLIC}
    if not declared or not published_file.exists():
        return []
    with duckdb.connect(str(published_file), read_only=True) as con:
        present = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        empty = [
            name
            for name in sorted(declared)
            if name in present
            and con.execute(f"select count(*) from {quote(name)}").fetchall()[0][0] == 0
        ]
    by_reason: dict[str, list[str]] = {}
    for name in empty:
        by_reason.setdefault(str(declared[name]), []).append(name)
    return [f"{', '.join(names)}: until {reason}" for reason, names in by_reason.items()]


def print_summary(
    settings: Settings, results: list[Any], elapsed: float, dagster_home: Path
) -> int:
    """Print the summary of the nightly run and the publish run after it (``results``, in
    order); return the number of failed error-severity checks."""
    events = [event for result in results for event in result.all_events]
    succeeded = all(result.success for result in results) and len(results) == 2
    rows = []
    for table, spec in EXTRACTS.items():
        audit = latest_audit(settings, table)
        if audit.is_empty():
            continue
        rows.append(
            {
                "source": spec.source,
                "table": table,
                "files": audit.height,
                "read": int(audit["rows_read"].sum()),
                "loaded": int(audit["rows_loaded"].sum()),
                "quarantined": int(audit["rows_quarantined"].sum()),
            }
        )
    materialised = {
        e.asset_key.path[-1]
        for e in events
        if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION and e.asset_key is not None
    }
    marts = sorted(m for m in materialised if m.startswith(("fct_", "dim_")))
    passed, warned, failed, failures = _check_outcomes(events)
    unrecognised_count, unrecognised = _unrecognised_files(events)

    print()
    print("=" * 78)
    print(
        f"Nightly pipeline {'SUCCEEDED' if succeeded else 'FAILED'} in {elapsed:.0f}s "
        f"(runs {', '.join(result.run_id for result in results)})"
    )
    print("=" * 78)
    if not succeeded:
        _print_what_failed(results, events)
    if rows:
        with pl.Config(
            tbl_rows=60,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
            tbl_formatting="ASCII_MARKDOWN",
            thousands_separator=",",
        ):
            print(pl.DataFrame(rows))
        total = pl.DataFrame(rows).select(pl.col("read", "loaded", "quarantined").sum()).row(0)
        print(
            f"All sources: {total[0]:,} rows read = {total[1]:,} loaded + {total[2]:,} quarantined"
        )
    print(f"\nMarts built: {len(marts)} — {', '.join(marts) if marts else 'none'}")
    print(f"Checks: {passed} passed, {warned} warnings, {failed} failed")
    for line in failures[:20]:
        print(f"  {line}")
    empty = empty_by_design(settings.published / PUBLISHED_FILE, publishable_marts())
    if empty:
        print("Published with no row yet, as designed (the data is too short for them):")
        for line in empty:
            print(f"  {line}")
    if unrecognised:
        print(
            "\nFiles in the landing area that no extract reads (landing_accounted; "
            "see docs/runbook.md, 'Files the pipeline did not recognise'):"
        )
        for item in unrecognised[:20]:
            print(f"  {item['file']}: {item['reason']}")
        if unrecognised_count > 20:
            print(
                f"  … and {unrecognised_count - 20} more: select * from audit.loads "
                "where table_name = '_unrecognised'"
            )
    _print_where_to_look(settings, dagster_home)
    return failed

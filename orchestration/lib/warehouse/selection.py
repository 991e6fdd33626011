"""What a night's dbt build leaves out and how: sources that failed reconciliation, could not be
reached or have never landed (their dependants keep their last build), and extracts reloaded
at or before what the incremental models hold (then the build is a full refresh). Read from
dbt's own graph in the manifest."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from orchestration.lib import outages, zones
from orchestration.lib.checks import reconcile
from orchestration.lib.settings import Settings


def raw_table(source: Mapping[str, Any]) -> str | None:
    """The raw table (ingest asset) a dbt source reads, from its ``meta.dagster.asset_key``."""
    meta = source.get("config", {}).get("meta", {}) or source.get("meta", {})
    key = meta.get("dagster", {}).get("asset_key")
    return key[-1] if key else None


def source_asset_key(source: Mapping[str, Any]) -> list[str] | None:
    """The asset key a dbt source names in ``meta.dagster.asset_key``."""
    meta = source.get("config", {}).get("meta", {}) or source.get("meta", {})
    return meta.get("dagster", {}).get("asset_key")


def source_files(settings: Settings, key: list[str]) -> tuple[Path, str] | None:
    """(folder, glob) of the Parquet files a dbt source reads, by its asset key: a raw table's
    partitions, or the audit zone and the quarantine (staging/audit, ``audit.loads`` and
    ``audit.quarantine``). The sources' external_location holds the data directory dbt was
    parsed with, so the run's own settings say where to look."""
    if key[0] == "raw":
        return settings.raw / key[-1], "*/*.parquet"
    if key == ["audit", "loads"]:
        return settings.audit, "*/*/*.parquet"
    if key == ["audit", "quarantine"]:
        return settings.quarantine, "*/*/*.parquet"
    return None


def source_exclusions(
    manifest: Mapping[str, Any], run_id: str, settings: Settings
) -> tuple[list[str], list[str]]:
    """(failing, never landed): selectors for what depends on a source that fails
    reconciliation or could not be reached in this run, and for what depends on a source with
    no Parquet files at all (it has never landed: an ICB may start with its reference and
    workforce publications alone). Each selector is in one list only, failing first. The dbt
    step leaves both out of the build (the first is logged as an error, the second as a note).

    Dagster's blocking checks act per step, and every dbt model is in one step: a blocking
    check on one source would stop the whole warehouse. So the rule "a failed check stops only
    what depends on it" is applied here, per model, with dbt's own graph; what is excluded keeps
    its last build."""
    unreachable = outages.for_run(settings, run_id)
    failing, never = set(), set()
    for source in manifest["sources"].values():
        selector = f"source:{source['source_name']}.{source['name']}+"
        key = source_asset_key(source)
        if (
            key
            and key[0] == "raw"
            and (key[-1] in unreachable or not reconcile(key[-1], settings)[0])
        ):
            failing.add(selector)
            continue
        where = source_files(settings, key) if key else None
        if where is not None and not any(where[0].glob(where[1])):
            never.add(selector)
    return sorted(failing), sorted(never)


def incremental_source_tables(manifest: Mapping[str, Any]) -> set[str]:
    """Raw tables an incremental model reads through staging views alone, i.e. by extract date
    (macro newer_than_loaded). Models further down compare what they hold with tables rebuilt
    each night (int_utilisation_cohorts_matched), so a table reached only through those, such as
    a reference file, needs no full refresh when reloaded."""
    nodes, children = manifest["nodes"], manifest["child_map"]
    tables = set()
    for source_id, source in manifest["sources"].items():
        table = raw_table(source)
        seen, todo = set(), list(children.get(source_id, []))
        while table and todo:
            node = todo.pop()
            if node in seen or node not in nodes:
                continue
            seen.add(node)
            materialized = nodes[node].get("config", {}).get("materialized")
            if materialized == "incremental":
                tables.add(table)
                break
            if materialized == "view":
                todo.extend(children.get(node, []))
    return tables


def history_reloaded(
    manifest: Mapping[str, Any], run_id: str, settings: Settings
) -> dict[str, list[str]]:
    """Extract dates this run loaded at or before one an earlier run loaded (a rerun of a day,
    or a late extract), per raw table that feeds an incremental model.

    The incremental models read only extracts newer than the latest they hold (dbt macro
    newer_than_loaded), so they would not see such a partition; the build is then a full
    refresh. A first load (no earlier run) and a night's new extracts are not history."""
    reloaded = {}
    for table in sorted(incremental_source_tables(manifest)):
        audit = zones.read_zone(settings.audit_table(table))
        if audit.is_empty():
            continue
        this_run = audit.filter(pl.col("run_id") == run_id)["extract_date"]
        earlier = audit.filter(pl.col("run_id") != run_id)["extract_date"]
        if this_run.len() and earlier.len():
            late = this_run.filter(this_run <= earlier.max()).unique().sort()
            if late.len():
                reloaded[table] = [str(d) for d in late]
    return reloaded

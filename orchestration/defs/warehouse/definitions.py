"""The dbt project as Dagster assets: staging, intermediate and marts in one lineage graph
with the ingest assets (each dbt source names its ingest asset in ``meta.dagster.asset_key``).
dbt is the only writer of ``warehouse.duckdb``; every writer runs in the ``warehouse`` pool
(limit 1, see ``orchestration/dagster.yaml``) because DuckDB allows one writer per file."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.lib import engines, faults, interrupts, night, outages, zones
from orchestration.lib.checks import reconcile
from orchestration.lib.dbt_project import sp_dbt_project
from orchestration.lib.resources import PipelineSettings
from orchestration.lib.settings import Settings


class WarehouseTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by their top-level folder (staging / intermediate / marts / seeds)."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "seed":
            return spec.replace_attributes(group_name="reference_seeds")
        if props["resource_type"] == "model":
            return spec.replace_attributes(group_name=props["fqn"][1])
        return spec


translator = WarehouseTranslator(
    # dagster 1.13.1+: source metadata on deps can make the code location fail to load.
    settings=DagsterDbtTranslatorSettings(enable_source_metadata=False)
)


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
    workforce publications alone). Each selector is in one list only, failing first."""
    unreachable = outages.for_run(settings, run_id)
    failing, never = set(), set()
    for source in manifest["sources"].values():
        selector = f"source:{source['source_name']}.{source['name']}+"
        key = source_asset_key(source)
        table = key[-1] if key else None
        if key and key[0] == "raw" and (table in unreachable or not reconcile(table, settings)[0]):
            failing.add(selector)
            continue
        where = source_files(settings, key) if key else None
        if where is not None and not any(where[0].glob(where[1])):
            never.add(selector)
    return sorted(failing), sorted(never)


def excluded_source_selectors(
    manifest: Mapping[str, Any], run_id: str, settings: Settings
) -> list[str]:
    """dbt selectors for everything downstream of a raw table that fails reconciliation or
    whose source could not be reached in this run (orchestration.lib.outages), and of a source
    that has never landed (no Parquet files: dbt would fail to create its view, "No files
    found", in every run). The dbt step logs the two apart (``source_exclusions``): the first
    is an error, the second a note.

    Dagster's blocking checks act per step, and every dbt model is in one step: a blocking
    check on one source would stop the whole warehouse. So the rule "a failed check stops only
    what depends on it" is applied here, per model, with dbt's own graph; what is excluded keeps
    its last build."""
    failing, never = source_exclusions(manifest, run_id, settings)
    return sorted({*failing, *never})


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
        audit = zones.read_zone(settings.audit / f"table={table}")
        if audit.is_empty():
            continue
        this_run = audit.filter(pl.col("run_id") == run_id)["extract_date"]
        earlier = audit.filter(pl.col("run_id") != run_id)["extract_date"]
        if this_run.len() and earlier.len():
            late = this_run.filter(this_run <= earlier.max()).unique().sort()
            if late.len():
                reloaded[table] = [str(d) for d in late]
    return reloaded


@contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """The run's data directory and memory cap in the environment while dbt starts: dbt reads
    them only from there (profiles.yml), and a run configured for another data directory must
    build that directory's warehouse. What was there before is put back, as an in-process run
    (`make pipeline`, tests) shares this process's environment with what runs next."""
    wanted = settings.dbt_environment()
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def stop_process(process: subprocess.Popen, grace_s: float = 20) -> None:
    """Make sure dbt does not outlive its step (a failed or interrupted step, a closed event
    stream): an orphaned dbt would hold warehouse.duckdb's lock and fail the next run. SIGINT
    first, which dbt answers by cancelling its queries; SIGKILL after ``grace_s``."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def night_plan(
    context: dg.AssetExecutionContext, manifest: Mapping[str, Any], cfg: Settings
) -> night.DbtPlan:
    """What tonight's dbt build selects (orchestration/lib/night.py), logged in one line."""
    full = context.run.tags.get(night.FULL_BUILD_TAG) == "true"
    plan = night.dbt_plan(manifest, cfg, full_requested=full)
    if plan.nothing:
        context.log.info(
            "dbt not run: nothing landed since the last build, the dbt project is unchanged "
            "and the last build had no error, failure or skip"
        )
    elif plan.full:
        context.log.info("full dbt build: " + "; ".join(plan.reasons))
    else:
        context.log.info(f"dbt build --select {' '.join(plan.select)}: " + "; ".join(plan.reasons))
    return plan


def night_invocation(
    dbt: DbtCliResource, args: list[str], context: dg.AssetExecutionContext, plan: night.DbtPlan
) -> Any:
    """``dbt build`` for the plan. A full build is dagster-dbt's usual invocation; a selective
    one is started without the context (dagster-dbt would add ``--select fqn:*``, which dbt
    unions with ours) and given it back for turning dbt's events into this step's outputs."""
    if plan.full:
        return dbt.cli(args, context=context, raise_on_error=False)
    args = [*args, "--select", " ".join(plan.select), "--state", str(plan.state)]
    invocation = dbt.cli(
        args,
        manifest=sp_dbt_project.manifest_path,
        dagster_dbt_translator=translator,
        raise_on_error=False,
    )
    invocation.context, invocation.project = context, sp_dbt_project
    return invocation


@dbt_assets(
    manifest=sp_dbt_project.manifest_path,
    project=sp_dbt_project,
    dagster_dbt_translator=translator,
    pool="warehouse",
)
def warehouse_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: PipelineSettings
) -> Iterator[Any]:
    cfg = settings.get_settings()
    manifest = json.loads(sp_dbt_project.manifest_path.read_text())
    plan = night_plan(context, manifest, cfg)  # issue 16: build only what the night reaches
    if plan.nothing:
        night.record_landing(cfg, context.run.tags.get(night.LANDING_TAG))
        return
    failing, never = source_exclusions(manifest, context.run.run_id, cfg)
    skip = sorted({*failing, *never})  # = excluded_source_selectors(...)
    if never:
        context.log.info(
            "not building what depends on sources with no raw files yet (never landed; they "
            "are built once their first extract is loaded): " + ", ".join(never)
        )
    if failing:
        context.log.error(
            "not rebuilding what depends on unreconciled or unreachable sources: "
            + ", ".join(failing)
        )
    # One --exclude value holding every selector, space-separated (dbt's own syntax): as
    # separate arguments dagster-dbt would put all but the last before its own --select.
    # Unit tests check the SQL against fixed inputs, so they belong to CI (`make test` runs
    # them: tests/warehouse/test_dbt_unit_tests.py), not to every night; dbt's own advice.
    args = [
        "build",
        "--exclude-resource-type",
        "unit_test",
        *(["--exclude", " ".join(skip)] if skip else []),
    ]
    reloaded = history_reloaded(manifest, context.run.run_id, cfg)
    if reloaded:
        context.log.warning(
            "extracts at or before those already in the warehouse were (re)loaded, so the "
            "incremental models are rebuilt in full (--full-refresh): "
            + "; ".join(f"{table} {', '.join(dates)}" for table, dates in reloaded.items())
        )
        args.append("--full-refresh")
    # PostgreSQL gets tonight's raw zone by COPY; Spark registers it as external tables.
    engine_args, notes = engines.prepare(cfg, manifest)
    args += engine_args
    for note in notes:
        context.log.info(note)
    # A failing dbt test must not fail the step: dbt build already skips the models downstream
    # of it, the failure surfaces as a failed asset check, and unrelated marts still publish.
    # dagster-dbt copies the environment into the dbt process when the invocation starts.
    with dbt_environment(cfg):
        invocation = night_invocation(dbt, args, context, plan)
    # A stop request (SIGTERM, Ctrl-C) interrupts the step even where dagster-dbt would swallow
    # Dagster's own interrupt: dbt is stopped, and the step ends as interrupted.
    with interrupts.child(invocation.process):
        try:
            for event in invocation.stream():
                if interrupts.requested():
                    break
                yield event
                faults.kill_point("dbt.mid_build")
        finally:
            stop_process(invocation.process)
    if interrupts.requested():
        raise dg.DagsterExecutionInterruptedError()
    night.record_build(cfg, plan, invocation.target_path, context.run.run_id)
    night.record_landing(cfg, context.run.tags.get(night.LANDING_TAG))


defs = dg.Definitions(
    assets=[warehouse_dbt_assets],
    # The dbt installed next to this interpreter, whether or not the venv is on PATH.
    resources={
        "dbt": DbtCliResource(
            project_dir=sp_dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt")
        )
    },
)

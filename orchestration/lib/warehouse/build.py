"""The warehouse step: tonight's ``dbt build`` planned (orchestration/lib/night.py), the sources
to leave out, the engine prepared, dbt run and streamed as Dagster events, stopped with the
step, and the build recorded for the next night."""

from __future__ import annotations

import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.lib import engines, faults, interrupts, memory, night
from orchestration.lib.settings import DBT_PROJECT_DIR, Settings
from orchestration.lib.warehouse.console import dbt_console
from orchestration.lib.warehouse.env import dbt_environment
from orchestration.lib.warehouse.manifest import read_manifest
from orchestration.lib.warehouse.project import sp_dbt_project
from orchestration.lib.warehouse.selection import history_reloaded, source_exclusions
from orchestration.lib.warehouse.translator import translator


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


# Each night's dbt writes its manifest, run results and compiled SQL in a folder of its own
# (dagster-dbt's default is a new folder under target/ per invocation, about 30 MB each on an
# ICB, never removed: 12 GB a year). The newest few stay for whoever is debugging a night.
NIGHTS = DBT_PROJECT_DIR / "target" / "nights"
KEEP_NIGHTS = 5


def night_target(run_id: str) -> Path:
    """A new folder for tonight's dbt invocation, named by the run."""
    return NIGHTS / f"{run_id[:8]}-{uuid.uuid4().hex[:7]}"


def prune_nights(keep: int = KEEP_NIGHTS) -> list[Path]:
    """Remove all but the ``keep`` newest invocation folders (a build running meanwhile is among
    the newest); returns what was removed."""
    if not NIGHTS.exists():
        return []
    folders = sorted(
        (p for p in NIGHTS.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return folders[keep:]


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
    target = night_target(context.run.run_id)
    if plan.full:
        return dbt.cli(args, context=context, raise_on_error=False, target_path=target)
    args = [*args, "--select", " ".join(plan.select), "--state", str(plan.state)]
    invocation = dbt.cli(
        args,
        manifest=sp_dbt_project.manifest_path,
        dagster_dbt_translator=translator,
        raise_on_error=False,
        target_path=target,
    )
    invocation.context, invocation.project = context, sp_dbt_project
    return invocation


def build_warehouse(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, cfg: Settings
) -> Iterator[Any]:
    """The body of the ``@dbt_assets`` step: dagster-dbt's events for what tonight's build ran."""
    manifest = read_manifest(sp_dbt_project.manifest_path)
    plan = night_plan(context, manifest, cfg)  # issue 16: build only what the night reaches
    if plan.nothing:
        night.record_landing(cfg, context.run.tags.get(night.LANDING_TAG))
        return
    before, after = memory.release_after_ingest()
    context.log.debug(f"memory before dbt starts: {before:,.0f} MiB, {after:,.0f} after release")
    failing, never = source_exclusions(manifest, context.run.run_id, cfg)
    skip = sorted({*failing, *never})
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
    with interrupts.child(invocation.process), dbt_console():
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
    night.record_build(
        cfg, plan, invocation.target_path, context.run.run_id, invocation.is_successful()
    )
    prune_nights()
    night.record_landing(cfg, context.run.tags.get(night.LANDING_TAG))

"""Run the whole nightly pipeline once, now, on whatever is in the landing area, and print
what happened and where to look next. This is `make pipeline` (and the tail of `make run`).

It executes the same Dagster job the nightly schedule launches, in this process, against the
project's Dagster instance (``DAGSTER_HOME``), so the run appears in the Dagster UI afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from orchestration.lib.settings import PROJECT_ROOT, Settings, load_settings
from orchestration.lib.warehouse.console import VERBOSE_ENV

if TYPE_CHECKING:
    from orchestration.lib.night import NightPlan


def ensure_dagster_home() -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return home


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=os.environ.get(VERBOSE_ENV, "") not in ("", "0"),
        help=f"print Dagster's whole event stream (DEBUG: every step and materialisation), as "
        f"{VERBOSE_ENV}=1 does; by default a few lines per stage, warnings and errors in full",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="build the whole warehouse and republish everything (make pipeline-full), "
        "whatever landed",
    )
    args = parser.parse_args(argv)

    if not args.verbose:
        # dbt-spark's pyspark warns about pandas on import, whichever engine runs: not tonight's news.
        warnings.filterwarnings("ignore", message="PySpark does not yet", category=FutureWarning)
    settings = load_settings()
    home = ensure_dagster_home()
    if settings.pseudo_key_is_dev:
        print(
            "NOTE: pseudonymising with the DEVELOPMENT key (SP_PSEUDO_KEY is not set). "
            "Fine for synthetic data; never for real extracts.",
            file=sys.stderr,
        )
    if not settings.landing.exists():
        print(
            f"Nothing to do: no landing area at {settings.landing}. "
            "Drop extracts there, or run `make demo-data` for the synthetic estate.",
            file=sys.stderr,
        )
        return 2

    # Issue 16: a night costs what landed. Whether anything landed, changed or failed since the
    # last build is read from small state files and file stats, before Dagster is imported.
    from orchestration.lib.night import plan_night

    started = time.perf_counter()
    plan = plan_night(settings)
    if plan.quiet and not args.full:
        _say(
            "quiet night: nothing landed or changed in the landing area or the case-management "
            "source, the dbt project is unchanged, the last build had no failure and everything "
            f"built is published; nothing ingested, built or published ({time.perf_counter() - started:.1f}s)"
        )
        return 0
    _say("work tonight: " + ("a full build (--full)" if args.full else "; ".join(plan.reasons)))

    import dagster as dg  # slow import, after the cheap checks above

    from orchestration.lib import interrupts
    from orchestration.lib.run_guard import RunRefused, exclusive_run

    if args.quiet:
        import logging

        logging.getLogger("dagster").setLevel(logging.WARNING)
    # The full event log is always in the Dagster instance (the UI) and dbt's logs/dbt.log; the
    # console shows it all only when asked (a newcomer reads a few lines per stage, the summary).
    os.environ[VERBOSE_ENV] = "1" if args.verbose else "0"
    # SIGTERM (systemd, kill, a scheduler's timeout) stops a run as Ctrl-C does: Dagster turns
    # either into an interrupt of the running step, and lib/interrupts makes sure of it (dbt
    # stopped, a bounded time); the run is then recorded as canceled.
    signal.signal(signal.SIGTERM, signal.getsignal(signal.SIGINT))
    interrupts.install()
    try:
        with exclusive_run(settings.data_dir):
            return _run(dg, settings, home, plan, full=args.full, verbose=args.verbose)
    except RunRefused as exc:
        print(f"REFUSED: {exc}", file=sys.stderr)
        return 3


def _say(line: str) -> None:
    print(f"pipeline: {line}", file=sys.stderr, flush=True)


def _run(
    dg: ModuleType, settings: Settings, home: Path, plan: NightPlan, full: bool, verbose: bool
) -> int:
    """The nightly run and the publish run after it, holding the data directory's lock."""
    from orchestration.definitions import defs
    from orchestration.lib import interrupts, run_guard, zones
    from orchestration.lib.landing_watch import landed_dates
    from orchestration.lib.night import FULL_BUILD_TAG, LANDING_TAG
    from orchestration.lib.partitions import covering_range, register
    from orchestration.lib.summary import print_summary

    started = time.perf_counter()
    for leftover in zones.clear_dead_writers(settings.zones):
        _say(f"removed a dead writer's leftover: {leftover}")
    with dg.DagsterInstance.get() as instance:
        try:
            run_guard.free_dead_runs(instance, _say)
            run_guard.wait_for_pool(instance, settings.pool_wait_seconds, _say)
            # One run over the extract dates with new or changed files (every landed date for a
            # full build), as a backfill of them would run; within them a partition whose files
            # are unchanged is skipped without reading them. With no such date (dbt code changed,
            # a failure to rebuild, marts to publish) the run covers the newest date alone.
            landed = landed_dates(settings) or [dt.date.today()]
            dates = landed if full else (plan.dates or landed[-1:])
            register(instance, landed)
            tags = {
                **covering_range(instance, dates),
                **run_guard.run_tags(),
                LANDING_TAG: plan.landing,
                **({FULL_BUILD_TAG: "true"} if full else {}),
            }
            console = {
                "loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "INFO"}}}
            }
            job = defs.resolve_job_def("nightly_pipeline")
            results = [
                job.execute_in_process(
                    instance=instance, raise_on_error=False, tags=tags, run_config=console
                )
            ]
            if interrupts.requested():
                raise KeyboardInterrupt
            # As the publish_after_nightly sensor does under the daemon: publish after success.
            if results[0].success:
                publish = defs.resolve_job_def("publish")
                results.append(
                    publish.execute_in_process(
                        instance=instance,
                        raise_on_error=False,
                        tags=run_guard.run_tags(),
                        run_config=console,
                    )
                )
            if interrupts.requested():
                raise KeyboardInterrupt
        except (KeyboardInterrupt, dg.DagsterExecutionInterruptedError):
            for run_id in run_guard.stop_own_runs(instance):
                _say(f"run {run_id} recorded as canceled; its pool slots are free")
            _say("stopped by a signal. Nothing needs repairing: rerun `make pipeline`.")
            return 130
    elapsed = time.perf_counter() - started
    failed_checks = print_summary(settings, results, elapsed, home)
    # A failed check does not fail the run (unrelated marts still build and publish), but it
    # must fail this command, so cron wrappers and CI notice.
    return 0 if all(r.success for r in results) and not failed_checks else 1


if __name__ == "__main__":
    sys.exit(main())

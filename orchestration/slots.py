"""See and free the Dagster pool slots by hand (docs/runbook.md, "A stuck warehouse slot").

    python -m orchestration.slots            # every pool: limit, slots held and by which run
    python -m orchestration.slots free RUN   # free the slots RUN holds (after checking it is dead)

`make pipeline` frees the slots of its own dead runs by itself; this is for the rest.
"""

from __future__ import annotations

import argparse
import sys

from orchestration.run import ensure_dagster_home


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    free = sub.add_parser("free", help="free the pool slots a run holds")
    free.add_argument("run_id")
    args = parser.parse_args(argv)
    ensure_dagster_home()

    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        if args.command == "free":
            run = instance.get_run_by_id(args.run_id)
            if run is not None and not run.is_finished:
                instance.report_run_failed(run, "its pool slots were freed by hand")
            storage.free_concurrency_slots_for_run(args.run_id)
            print(f"freed the slots of run {args.run_id}")
            return 0
        for pool in sorted(storage.get_concurrency_keys()):
            info = storage.get_concurrency_info(pool)
            print(f"{pool}: {info.active_slot_count} of {info.limit} slot(s) held")
            for run_id in sorted(info.active_run_ids):
                run = instance.get_run_by_id(run_id)
                status = run.status.value if run else "unknown run"
                print(f"  held by run {run_id} ({status})")
            for run_id in sorted(info.pending_run_ids - info.active_run_ids):
                print(f"  waited for by run {run_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

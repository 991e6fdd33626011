"""Benchmark the warehouse build: a full `dbt build` on a tier, then the nightly incremental
`dbt build` after one more month of extracts lands, and their ratio.

    python -m scripts.bench_warehouse --tier demo [--seed 42] [--workdir /tmp/bench]

Steps (only the two `dbt build` calls are timed):
1. generate the tier's estate; hold back the latest extract date of every source that has one
   month per extract (GP, acute, wellbeing survey; workforce and reference keep their own);
2. run the nightly pipeline once (ingest + build) on the rest, then time
   `dbt build --full-refresh` (the full build);
3. put the held-back extracts back, copy the warehouse aside, run the pipeline (which ingests
   the new partitions), restore the copied warehouse and time `dbt build` (the incremental run
   processes exactly the new month, as a nightly run would).
4. (unless --no-fixed-cost) time the same `dbt build` on the tiny tier once its pipeline has
   run, so nothing is new: what dbt spends on this graph's 500-odd nodes whatever the data
   (starting up, compiling and running each model and test), which no incremental model can
   save. A nightly build runs every node, so it takes at least this long.
The issue's target: icb full build < 3 min on 2 cores, incremental < 10 % of it.

The engine is the environment's SP_DBT_TARGET (duckdb by default; postgres with
SP_WAREHOUSE_POSTGRES_URL; spark). On PostgreSQL and Spark, step 3 cannot put an earlier
warehouse back (it is a server's schema or a metastore, not a file), so the nightly figure is
the whole nightly pipeline (ingest, the raw zone made readable to the engine, the incremental
dbt build, publishing), and the incremental-equals-full check is left to the test suite
(tests/warehouse/test_engines.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from orchestration.lib.settings import DBT_EXECUTABLE

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "dbt_project"
MONTHLY_SOURCES = ("gp_emis", "gp_systmone", "acute", "survey_wellbeing")


def run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> float:
    """Run a command (output captured; shown only on failure); return seconds taken."""
    print(f"… {' '.join(Path(c).name if '/' in c else c for c in cmd[:4])}", file=sys.stderr)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    print(f"  {took:.1f}s", file=sys.stderr)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-6000:] + proc.stderr[-3000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd[:4])} …")
    return took


def dbt(args: list[str], env: dict[str, str]) -> float:
    exe = str(DBT_EXECUTABLE)
    return run(
        [exe, *args, "--profiles-dir", str(PROJECT), "--project-dir", str(PROJECT)], env, PROJECT
    )


# The nightly job's dbt build leaves unit tests to CI (orchestration/defs/warehouse/).
PRODUCTION = ("--exclude-resource-type", "unit_test")
INCREMENTAL_MODELS = (
    "int_gp_appointments_unioned",
    "int_gp_events_unioned",
    "int_activity_events_unioned",
)


# incremental by matched set: the match, and its members' activity counted
COHORTS = ("int_utilisation_cohorts_matched", "int_utilisation_cohorts_counted")


def fingerprint(warehouse: Path) -> list[tuple]:
    """Row count and an order-independent hash sum per incremental table, of every column but
    built_at (when the run that wrote a row started, which differs by design)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            con.execute(
                "select count(*), sum(hash(t)) from "  # fixed model names, no values
                f"(select * exclude (built_at) from {name}) as t"
            ).fetchall()[0]
            for name in (*INCREMENTAL_MODELS, *COHORTS)
        ]


def pipeline_env(work: Path) -> dict[str, str]:
    """The environment of a pipeline on `work/data` with its own Dagster instance and the
    development pseudonymisation key (synthetic data only)."""
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SP_DATA_DIR": str(work / "data"),
        "DAGSTER_HOME": str(work / "dagster_home"),
    }
    env.pop("SP_PSEUDO_KEY", None)
    # What dbt reads from its environment (the engine, PostgreSQL's connection in parts), as
    # the pipeline's dbt step sets it: the timed dbt builds below call dbt directly.
    from orchestration.lib.settings import resolve_settings

    env.update(resolve_settings({"data_dir": env["SP_DATA_DIR"]}).dbt_environment())
    return env


def generate(tier: str, seed: int, data: Path, env: dict[str, str]) -> float:
    cmd = ["-m", "estate", "generate", "--tier", tier, "--seed", str(seed), "--out", str(data)]
    return run([sys.executable, *cmd, "--force", "--quiet"], env)


def fixed_cost(work: Path, seed: int, runs: int = 3) -> float:
    """The fastest of a few `dbt build`s of the tiny tier with nothing new since the last."""
    env = pipeline_env(work)
    generate("tiny", seed, work / "data", env)
    run([sys.executable, "-m", "orchestration.run", "--quiet"], env)
    return min(dbt(["build", *PRODUCTION], env) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--no-fixed-cost",
        action="store_true",
        help="skip timing dbt's fixed cost (the same build on the tiny tier, nothing new)",
    )
    parser.add_argument(
        "--reuse-estate",
        action="store_true",
        help="keep the estate an earlier run generated in --workdir (its zones and warehouse "
        "are rebuilt from scratch)",
    )
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix=f"bench-{args.tier}-"))
    data = work / "data"
    env = pipeline_env(work)
    py = sys.executable
    target = env.get("SP_DBT_TARGET", "duckdb")

    held = work / "held_back"
    latest = {}
    if args.reuse_estate and held.is_dir():
        gen = 0.0
        for zone in ("raw", "quarantine", "audit", "published"):
            shutil.rmtree(data / zone, ignore_errors=True)
        (data / "warehouse.duckdb").unlink(missing_ok=True)
        shutil.rmtree(data / "spark", ignore_errors=True)
        latest = {source: next((held / source).iterdir()).name for source in MONTHLY_SOURCES}
        for source, date in latest.items():  # landed by the earlier run's nightly step
            shutil.rmtree(data / "landing" / source / date, ignore_errors=True)
    else:
        gen = generate(args.tier, args.seed, data, env)
        shutil.rmtree(held, ignore_errors=True)
        for source in MONTHLY_SOURCES:
            dates = sorted(p.name for p in (data / "landing" / source).iterdir() if p.is_dir())
            latest[source] = dates[-1]
            (held / source).mkdir(parents=True, exist_ok=True)
            shutil.move(data / "landing" / source / dates[-1], held / source / dates[-1])

    dbt(["parse", "--quiet"], env)
    first = run([py, "-m", "orchestration.run", "--quiet"], env)
    full = dbt(["build", "--full-refresh", *PRODUCTION], env)

    for source, date in latest.items():
        shutil.copytree(held / source / date, data / "landing" / source / date)
    if target != "duckdb":
        second = run([py, "-m", "orchestration.run", "--quiet"], env)
        incremental, same, fixed = None, None, None
    else:
        before = work / "warehouse_before.duckdb"
        shutil.copy2(data / "warehouse.duckdb", before)
        second = run([py, "-m", "orchestration.run", "--quiet"], env)
        shutil.copy2(before, data / "warehouse.duckdb")
        incremental = dbt(["build", *PRODUCTION], env)

        # correctness (untimed): the incremental tables equal a full rebuild of them
        incremental_fingerprint = fingerprint(data / "warehouse.duckdb")
        models = [*INCREMENTAL_MODELS, "int_extract_changes_dated", *COHORTS]
        dbt(["run", "--full-refresh", "-s", *models], env)
        same = fingerprint(data / "warehouse.duckdb") == incremental_fingerprint
        fixed = None if args.no_fixed_cost else fixed_cost(work / "fixed_cost", args.seed)

    result = {
        "target": target,
        "tier": args.tier,
        "seed": args.seed,
        "new_extract_dates": latest,
        "generate_s": round(gen, 1),
        "first_pipeline_s": round(first, 1),
        "full_dbt_build_s": round(full, 1),
        "nightly_pipeline_s": round(second, 1),
        "incremental_dbt_build_s": incremental and round(incremental, 1),
        "incremental_to_full_ratio": incremental and round(incremental / full, 3),
        "incremental_equals_full_refresh": same,
        "fixed_cost_dbt_build_s": fixed and round(fixed, 1),
        "fixed_cost_to_full_ratio": fixed and round(fixed / full, 3),
        "workdir": str(work),
    }
    print(json.dumps(result, indent=2))
    if same is False:
        raise SystemExit("incremental tables differ from a full refresh")


if __name__ == "__main__":
    main()

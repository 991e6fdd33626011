"""`make bench`: what a night costs, for what landed (issue 16). One run, one table.

On a tier (BENCH_TIER, default icb) three nights of `make pipeline` (the parse step, then
`python -m orchestration.run`, timed together as an operator sees them):

1. **first load**: every extract but the latest month of the monthly sources (GP, acute,
   wellbeing survey), and the case-management database;
2. **one month**: that latest month lands;
3. **quiet night**: nothing new.

For each: seconds in ingest (the ingest steps), dbt (the dbt step), publish (the publish run's
steps) and orchestration (the rest: start-up, planning, Dagster, checks), the total, rows
ingested per second of the total, and the peak memory of the whole process tree (pipeline,
dbt and every child, sampled) two ways: resident (RSS, summed over the processes, so a shared
library both the pipeline and dbt map is counted twice) and proportional (PSS: each shared
page divided among the processes that map it, so the sum is what the tree costs the
machine). Both are read from Linux's /proc, as the whole bench is. Beside it the floor:
DuckDB's own copy of the same landed files (``read_csv`` into a table, nothing checked) in a
process of its own.

The pipeline runs at the default DuckDB memory cap (SP_DUCKDB_MEMORY_LIMIT unset: 3GB) unless
the environment sets one.

    python -m scripts.bench_night [--tier icb] [--seed 42] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONTHLY_SOURCES = ("gp_emis", "gp_systmone", "acute", "survey_wellbeing")
STEP = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}) - \S+ - \w+"
    r" - (nightly_pipeline|publish) - [0-9a-f-]+ - \d+ - \S+ - STEP_SUCCESS - "
    r'Finished execution of step "([^"]+)" in ([0-9hms.]+)\.',
    re.MULTILINE,
)
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:([\d.]+)s)?(?:([\d.]+)ms)?$")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_memory(pgid: int) -> tuple[int, int]:
    """Resident and proportional bytes (RSS, PSS) of every process in a process group."""
    rss = pss = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            rss += int((stat.parent / "statm").read_text().split()[1]) * PAGE
            for line in (stat.parent / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError, IndexError):
            continue
    return rss, pss


Samples = list[tuple[float, int, int]]  # (epoch seconds, RSS bytes, PSS bytes)


def run_tree(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str, Samples]:
    """Run ``cmd`` in its own process group; (seconds, peak RSS of the group, output, the
    memory samples)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    samples: Samples = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.time(), *_tree_memory(proc.pid)))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.communicate()[0]
    done.set()
    sampler.join()
    took = time.perf_counter() - started
    if proc.returncode not in (0, 1):  # 1: a failed check, still a night that ran
        sys.stderr.write(output[-6000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd[:4])}")
    return took, max((rss for _, rss, _ in samples), default=0), output, samples


def _part(job: str, step: str) -> str:
    if step == "warehouse_dbt_assets":
        return "dbt"
    if job == "publish":
        return "publish"
    if step.startswith("raw__") or step in (
        "case_management_pull",
        "audit__unrecognised_files",
    ):
        return "ingest"
    return "orchestration"


def step_parts(output: str, samples: Samples) -> tuple[dict[str, float], dict[str, int]]:
    """Seconds per part of the night, from the runs' step timings, and the peak RSS sampled
    while each part's steps ran (orchestration: every sample outside them)."""
    parts = {"ingest": 0.0, "dbt": 0.0, "publish": 0.0}
    spans: list[tuple[str, float, float]] = []
    for stamp, job, step, text in STEP.findall(output):
        duration = DURATION.match(text)
        if duration is None:
            raise ValueError(f"a step duration this bench cannot read: {text!r}")
        h, m, s, ms = duration.groups()
        seconds = int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0) + float(ms or 0) / 1000
        part = _part(job, step)
        if part in parts:
            parts[part] += seconds
            # The log's clock has whole seconds: widen each span by one either side.
            end = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S %z").timestamp() + 1
            spans.append((part, end - seconds - 2, end))
    peaks = dict.fromkeys((*parts, "orchestration"), 0)
    for at, rss, _ in samples:
        inside = [part for part, start, end in spans if start <= at <= end] or ["orchestration"]
        for part in inside:
            peaks[part] = max(peaks[part], rss)
    return parts, peaks


def rows_ingested(data: Path, since: dt.datetime) -> int:
    """Rows read by every load whose audit row was written after ``since``."""
    import polars as pl

    files = [
        p
        for p in (data / "audit" / "loads").glob("table=*/extract_date=*/run-*.parquet")
        if dt.datetime.strptime(p.name.split("-")[1], "%Y%m%dT%H%M%S%f") >= since
    ]
    if not files:
        return 0
    return int(pl.read_parquet(files, hive_partitioning=False)["rows_read"].sum())


def floor_copy(data: Path, dates: dict[str, list[str]] | None) -> dict:
    """The floor, in this process: the landed CSV files of ``dates`` (per source; None: all)
    read by DuckDB into tables, nothing checked (``read_csv`` as text, one table per extract
    date and extract)."""
    import duckdb

    os.environ["SP_DATA_DIR"] = str(data)
    from orchestration.lib.ingest import files_for, landing_dates
    from orchestration.lib.settings import load_settings
    from schemas import EXTRACTS

    settings = load_settings()
    con = duckdb.connect(str(data.parent / "floor.duckdb"))
    rows = 0
    started = time.perf_counter()
    for spec in EXTRACTS.values():
        if spec.table.startswith("cms_"):
            continue
        for day in landing_dates(settings, spec):
            if dates is not None and day.isoformat() not in dates.get(spec.source, []):
                continue
            paths = [
                str(e.path)
                for e in files_for(settings, spec, day)
                if e.member is None and e.path.stat().st_size
            ]
            if not paths:
                continue
            name = f"{spec.table}_{day:%Y%m%d}"
            for tolerant in (False, True):
                extra = ", union_by_name = true, ignore_errors = true" if tolerant else ""
                try:
                    con.execute(
                        f"create or replace table {name} as select * from read_csv($files, "
                        f"delim = $delim, header = true, all_varchar = true{extra})",
                        {"files": paths, "delim": spec.delimiter},
                    )
                    break
                except duckdb.Error:
                    if tolerant:
                        raise
            (count,) = con.execute(f"select count(*) from {name}").fetchall()[0]
            rows += count
    seconds = time.perf_counter() - started
    con.close()
    (data.parent / "floor.duckdb").unlink(missing_ok=True)
    return {"rows": rows, "seconds": seconds}


def floor_in_child(data: Path, dates: dict[str, list[str]] | None, env: dict[str, str]) -> dict:
    cmd = [sys.executable, "-m", "scripts.bench_night", "--floor-worker", str(data)]
    cmd += ["--floor-dates", json.dumps(dates)]
    took, peak, output, _ = run_tree(cmd, env)
    result = json.loads(output.strip().splitlines()[-1])
    print(f"  floor: {result['rows']:,} rows in {result['seconds']:.1f}s", file=sys.stderr)
    return {**result, "peak": peak}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", default=os.environ.get("BENCH_TIER", "icb"))
    parser.add_argument("--seed", default="42")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--floor-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor-dates", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_worker:
        print(json.dumps(floor_copy(args.floor_worker, json.loads(args.floor_dates))))
        return 0

    work = (args.workdir or ROOT / "data" / "bench" / f"night-{args.tier}").resolve()
    shutil.rmtree(work, ignore_errors=True)
    data, held = work / "data", work / "held_back"
    (work / "dagster_home").mkdir(parents=True)
    # SP_VERBOSE: the step timings are read from Dagster's DEBUG events (STEP_SUCCESS lines).
    env = {
        **os.environ,
        "SP_DATA_DIR": str(data),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "SP_VERBOSE": "1",
    }
    env.pop("SP_PSEUDO_KEY", None)
    print(f"generating the {args.tier} estate in {data} …", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "estate", "generate", "--tier", args.tier, "--seed", args.seed]
        + ["--out", str(data), "--force", "--quiet"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    latest = {}
    for source in MONTHLY_SOURCES:
        dates = sorted(p.name for p in (data / "landing" / source).iterdir() if p.is_dir())
        latest[source] = [dates[-1]]
        (held / source).mkdir(parents=True)
        shutil.move(data / "landing" / source / dates[-1], held / source / dates[-1])

    def night(name: str) -> dict:
        print(f"{name} …", file=sys.stderr)
        since = dt.datetime.now()
        parse_s, parse_peak, _, parse_samples = run_tree(
            [sys.executable, "-m", "scripts.dbt_parse_if_changed"], env
        )
        took, peak, output, samples = run_tree([sys.executable, "-m", "orchestration.run"], env)
        parts, peaks = step_parts(output, samples)
        pss = max((p for _, _, p in samples + parse_samples), default=0)
        peaks["orchestration"] = max(peaks["orchestration"], parse_peak)
        total = parse_s + took
        rows = rows_ingested(data, since)
        print(
            f"  {total:.1f}s: ingest {parts['ingest']:.1f}, dbt {parts['dbt']:.1f}, publish "
            f"{parts['publish']:.1f}; {rows:,} rows; peak {max(peak, parse_peak) / 2**20:,.0f} MiB "
            f"(PSS {pss / 2**20:,.0f}) "
            f"(" + ", ".join(f"{k} {v / 2**20:,.0f}" for k, v in peaks.items()) + ")",
            file=sys.stderr,
        )
        # Why the night ran, and what failed: a failed check exits 1 and the night still counts,
        # so say it here (the whole log is in the work directory, kept with --keep).
        for line in output.splitlines():
            if line.startswith(("pipeline:", "Checks:", "Done. PASS=")) or " ERROR " in line:
                print(f"    {line[:300]}", file=sys.stderr)
        (work / f"night-{name.replace(' ', '-')}.log").write_text(output)
        return {
            "night": name,
            **parts,
            "orchestration": total - sum(parts.values()),
            "total": total,
            "rows": rows,
            "peak": max(peak, parse_peak),
            "pss": pss,
            "peaks": peaks,
        }

    floors = {"first load": floor_in_child(data, None, env)}
    nights = [night("first load")]
    for source, dates in latest.items():
        for date in dates:
            shutil.copytree(held / source / date, data / "landing" / source / date)
    floors["one month"] = floor_in_child(data, latest, env)
    nights.append(night("one month"))
    floors["quiet night"] = {"rows": 0, "seconds": 0.0, "peak": 0}
    nights.append(night("quiet night"))

    mib = 1024 * 1024
    cap = os.environ.get("SP_DUCKDB_MEMORY_LIMIT", "3GB (default)")
    print(
        f"\nA night costs what landed — tier {args.tier}, seed {args.seed}, "
        f"{os.cpu_count()} cores, DuckDB memory cap {cap}, {dt.date.today()}"
    )
    header = (
        "| night | ingest s | dbt s | publish s | orchestration s | total s | rows ingested "
        "| rows/s | peak RSS MiB | peak PSS MiB "
        "| peak RSS in ingest / dbt / publish / orchestration MiB "
        "| floor s | floor rows/s | floor peak MiB |"
    )
    print(header)
    print("|" + "---|" * 14)
    for n in nights:
        f = floors[n["night"]]
        rate = f"{n['rows'] / n['total']:,.0f}" if n["rows"] else "-"
        floor_rate = f"{f['rows'] / f['seconds']:,.0f}" if f["rows"] else "-"
        print(
            f"| {n['night']} | {n['ingest']:.1f} | {n['dbt']:.1f} | {n['publish']:.1f} "
            f"| {n['orchestration']:.1f} | {n['total']:.1f} | {n['rows']:,} | {rate} "
            f"| {n['peak'] / mib:,.0f} | {n['pss'] / mib:,.0f} | "
            + " / ".join(f"{v / mib:,.0f}" for v in n["peaks"].values())
            + f" | {f['seconds']:.1f} | {floor_rate} "
            f"| {f['peak'] / mib:,.0f} |"
        )
    print(
        "floor: DuckDB read_csv of the same landed CSV files into tables, nothing checked (the "
        "case-management database is pulled by the pipeline only). Goals: quiet night <= 10 s; "
        "one month on icb <= 45 s; peak RSS <= 4,096 MiB at the default cap."
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the ingest (`make bench-ingest`): rows/s and peak memory of landing → raw zone
for every file-based extract, next to the floor — a plain DuckDB ``read_csv`` → Parquet copy of
the same files with no validation — so the cost of checking every row is measured, not guessed.

Each side runs in its own process so its peak memory is its own. Usage:

    python -m scripts.bench_ingest [--tier icb] [--data /path/with/landing]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ingest(data: Path) -> dict:
    """The real ingest: file contract, pandera, pseudonymisation, zones, audit."""
    os.environ["SP_DATA_DIR"] = str(data)
    from orchestration.lib.ingest import ingest_files, landing_dates
    from orchestration.lib.settings import load_settings
    from schemas import EXTRACTS

    settings = load_settings()
    for zone in (settings.raw, settings.quarantine, settings.audit):
        shutil.rmtree(zone, ignore_errors=True)
    rows = files = 0
    started = time.perf_counter()
    # Reference first: the practice check reads the mapping, as in the real run order.
    for spec in sorted(EXTRACTS.values(), key=lambda s: s.table != "ref_practice_mapping"):
        if spec.table.startswith("cms_"):
            continue
        for result in ingest_files(
            settings, spec, landing_dates(settings, spec), "bench", force=True
        ):
            rows += result.rows_read
            files += result.files
    return {
        "rows": rows,
        "files": files,
        "seconds": time.perf_counter() - started,
        "peak_mib": _peak_mib(),
    }


def run_floor(data: Path) -> dict:
    """The floor: the same files read by DuckDB as text and written to Parquet, nothing else."""
    import duckdb

    from orchestration.lib.ingest import files_for, landing_dates
    from orchestration.lib.settings import load_settings
    from schemas import EXTRACTS

    os.environ["SP_DATA_DIR"] = str(data)
    settings = load_settings()
    out = data / "bench_floor"
    shutil.rmtree(out, ignore_errors=True)
    rows = tolerant = 0
    started = time.perf_counter()
    con = duckdb.connect()
    for spec in EXTRACTS.values():
        if spec.table.startswith("cms_"):
            continue
        for day in landing_dates(settings, spec):
            # Plain and gzipped files (DuckDB reads .gz itself); zip members have no path.
            paths = [
                str(e.path)
                for e in files_for(settings, spec, day)
                if e.member is None and e.path.stat().st_size
            ]
            if not paths:
                continue
            target = out / spec.table / f"{day}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                # The cheapest copy DuckDB offers: every file read with the first one's layout.
                rel = con.sql(
                    "select * from read_csv($files, delim = $delim, header = true, "
                    "all_varchar = true)",
                    params={"files": paths, "delim": spec.delimiter},
                )
                rel.write_parquet(str(target))
            except duckdb.Error:
                # A malformed file in the set (the estate plants some): the tolerant, slower
                # reading, for this partition only.
                rel = con.sql(
                    "select * from read_csv($files, delim = $delim, header = true, "
                    "all_varchar = true, union_by_name = true, ignore_errors = true)",
                    params={"files": paths, "delim": spec.delimiter},
                )
                rel.write_parquet(str(target))
                tolerant += 1
            rows += con.execute(
                "select count(*) from read_parquet($p)", {"p": str(target)}
            ).fetchall()[0][0]
    seconds = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    return {"rows": rows, "seconds": seconds, "peak_mib": _peak_mib(), "tolerant": tolerant}


def _child(kind: str, data: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.bench_ingest", "--worker", kind, "--data", str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ingest benchmark")
    parser.add_argument("--tier", default="icb")
    parser.add_argument("--seed", default="42")
    parser.add_argument(
        "--data", type=Path, default=None, help="a data dir with landing/ (generated if absent)"
    )
    parser.add_argument("--worker", choices=["ingest", "floor"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data = (args.data or ROOT / "data" / "bench" / args.tier).resolve()

    if args.worker:
        print(json.dumps(run_ingest(data) if args.worker == "ingest" else run_floor(data)))
        return 0
    if not (data / "landing" / "_manifest.json").exists():
        print(f"generating the {args.tier} estate into {data} …", file=sys.stderr)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "estate",
                "generate",
                "--tier",
                args.tier,
                "--seed",
                args.seed,
                "--out",
                str(data),
                "--force",
                "--quiet",
            ],
            cwd=ROOT,
            check=True,
        )
    print(f"ingest benchmark on {data} (cores: {os.cpu_count()})", file=sys.stderr)
    floor = _child("floor", data)
    ingest = _child("ingest", data)
    rate, floor_rate = ingest["rows"] / ingest["seconds"], floor["rows"] / floor["seconds"]
    print(f"""
                      rows   seconds       rows/s   peak MiB
floor (read_csv→parquet) {floor["rows"]:>12,} {floor["seconds"]:>8.1f} {floor_rate:>12,.0f} {floor["peak_mib"]:>9,.0f}
ingest (full contract)   {ingest["rows"]:>12,} {ingest["seconds"]:>8.1f} {rate:>12,.0f} {ingest["peak_mib"]:>9,.0f}
ingest / floor time: {ingest["seconds"] / floor["seconds"]:.2f}x   files: {ingest["files"]:,}
floor partitions that needed DuckDB's tolerant reading (a malformed file): {floor["tolerant"]}
targets: >= 1,000,000 rows/s end to end, <= 2x the floor, < 4,096 MiB peak""")
    return 0


if __name__ == "__main__":
    sys.exit(main())

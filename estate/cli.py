"""``sp-estate`` / ``python -m estate``: generate the synthetic source estate."""

from __future__ import annotations

import argparse
import sys
import time

from estate.tiers import TIERS


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="sp-estate", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write landing files, CMS database and manifest")
    g.add_argument("--tier", choices=sorted(TIERS), default="tiny")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--out", default="data")
    g.add_argument(
        "--force", action="store_true", help="wipe <out>/landing and <out>/sources first"
    )
    g.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)

    from estate.generate import generate

    t0 = time.perf_counter()
    try:
        m = generate(args.tier, args.seed, args.out, force=args.force, progress=not args.quiet)
    except FileExistsError as e:
        print(f"sp-estate: {e}", file=sys.stderr)
        return 2
    for table, n in m["row_counts"].items():
        print(f"{table}: {n:,} rows")
    print(
        f"tier={args.tier} seed={args.seed} out={args.out} in {time.perf_counter() - t0:.1f}s",
        file=sys.stderr,
    )
    return 0

"""The published contract: what BI tools and analysts may rely on, locked in the repository.

``dbt_project/published_contract.lock.json`` records every published relation with its
columns and types. A change that only adds columns or relations is compatible: rewrite the lock
with ``--write``. A breaking change — a relation gone, a column removed or retyped — is refused
by ``--check`` (and by the test suite) unless the old relation is still served or explicitly
retired. The way to make one is a dbt model version: add ``versions: [{v: 1}, {v: 2}]`` to the
model, so ``pub_x_v2`` is published beside ``pub_x_v1`` while readers move across, then move the
old relation to ``retired`` in the lock when nobody reads it any more.

    python -m scripts.published_contract --check     # CI
    python -m scripts.published_contract --write     # after a compatible change
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "dbt_project" / "target" / "manifest.json"
LOCK = ROOT / "dbt_project" / "published_contract.lock.json"


def current_contract(manifest_path: Path = MANIFEST) -> dict[str, dict[str, str]]:
    """Published relation name → {column: data type}, from the dbt manifest."""
    manifest = json.loads(manifest_path.read_text())
    contract = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["fqn"][1] != "published":
            continue
        relation = node.get("alias") or node["name"]
        contract[relation] = {
            c: (props.get("data_type") or "").lower() for c, props in node["columns"].items()
        }
    return dict(sorted(contract.items()))


def breaking_changes(locked: dict, current: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    retired = set(locked.get("retired", []))
    for relation, columns in locked["relations"].items():
        if relation in retired:
            continue
        if relation not in current:
            problems.append(
                f"{relation}: no longer published (serve it until it is retired in the lock)"
            )
            continue
        for column, data_type in columns.items():
            now = current[relation].get(column)
            if now is None:
                problems.append(
                    f"{relation}.{column}: removed (a breaking change needs a new model version)"
                )
            elif now != data_type:
                problems.append(
                    f"{relation}.{column}: {data_type} → {now} (a breaking change needs a new model version)"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true")
    group.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    current = current_contract()
    locked = json.loads(LOCK.read_text()) if LOCK.exists() else {"relations": {}, "retired": []}
    problems = breaking_changes(locked, current)
    if problems:
        print(
            "Breaking changes to the published contract:\n  " + "\n  ".join(problems),
            file=sys.stderr,
        )
        return 1
    if args.write:
        LOCK.write_text(
            json.dumps({"relations": current, "retired": locked.get("retired", [])}, indent=2)
            + "\n"
        )
        print(f"wrote {LOCK.relative_to(ROOT)}: {len(current)} published relations")
    else:
        added = sorted(set(current) - set(locked["relations"]))
        print(
            f"published contract compatible ({len(current)} relations; new since the lock: {added or 'none'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

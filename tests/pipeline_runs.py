"""One run of the nightly pipeline as `make pipeline` runs it, for tests that need a whole run.

A plain module, not a conftest: `from conftest import …` resolves to whichever conftest pytest
imported last (tests/publishing/ has one too), so helpers shared across folders live here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class PipelineRun:
    """One run of the nightly pipeline (`python -m orchestration.run`) into a data directory."""

    data: Path
    dagster_home: Path
    returncode: int
    output: str
    manifest: dict


def run_pipeline(
    data: Path, dagster_home: Path, args: tuple[str, ...] = (), **extra_env: str
) -> PipelineRun:
    """Run the whole nightly job as `make pipeline` does (``args``: e.g. ``--full``, as
    `make pipeline-full`), with the development key."""
    env = {**os.environ, "SP_DATA_DIR": str(data), "DAGSTER_HOME": str(dagster_home), **extra_env}
    env.pop("SP_PSEUDO_KEY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.run", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        # Its own process group: a fault-injection test kills the pipeline's whole group.
        start_new_session=True,
    )
    manifest_path = data / "landing" / "_manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    return PipelineRun(data, dagster_home, proc.returncode, proc.stdout + proc.stderr, manifest)


# Columns that differ between two runs of the same data by design: run ids and timestamps.
VOLATILE_COLUMNS = {
    "run_id",
    "publication_run_id",
    "built_at",
    "started_at",
    "finished_at",
    "published_at",
}


def table_fingerprints(database: Path, schema: str = "main") -> dict[str, tuple[int, int]]:
    """(rows, order-independent content hash) of every table and view in ``schema`` of a
    DuckDB file, leaving out VOLATILE_COLUMNS and the `_publication` bookkeeping table;
    floating-point columns rounded to 9 decimal places."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "and table_name <> '_publication' order by 1",
                [schema],
            ).fetchall()
        ]
        out = {}
        for name in names:
            columns = [
                (c, t)
                for (c, t) in con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
                if c not in VOLATILE_COLUMNS
            ]
            # Floating-point sums may differ in the last bit between two runs (the order a
            # parallel aggregate adds in): compare them to 9 decimal places.
            quoted = ", ".join(
                f"{q} := round({q}, 9)" if t in ("DOUBLE", "FLOAT") else f"{q} := {q}"
                for q, t in (('"' + c.replace('"', '""') + '"', t) for c, t in columns)
            )
            table = f'"{schema}"."{name}"'  # names from the catalogue, not from data
            rows, digest = con.execute(
                f"select count(*), coalesce(sum(hash(struct_pack({quoted}))::hugeint), 0)::varchar "
                f"from {table}"
            ).fetchone()
            out[name] = (rows, digest)
        return out


def leftovers(data: Path) -> list[Path]:
    """Anything a dead writer could leave behind: staging folders with content, in-place
    temporary names in the zones, half-written published files."""
    found = [
        p
        for p in (data / ".staging", data / "audit" / ".staging")
        if p.exists() and any(p.iterdir())
    ]
    for zone in (data / "raw", data / "quarantine", data / "audit" / "loads"):
        found += [p for pat in ("*/.tmp-*", "*/.old-*", "*/*/.tmp-*") for p in zone.glob(pat)]
    found += list((data / "published").glob(".*.tmp"))
    return sorted(found)


def run_pipeline_on_engine(
    source: PipelineRun, workdir: Path, target: str, **extra_env: str
) -> PipelineRun:
    """The same nightly pipeline on another warehouse engine (SP_DBT_TARGET), over a copy of
    ``source``'s data directory: the landed files, raw zone and audit are the same, so the
    ingest loads nothing new and dbt builds everything on ``target``; publishing writes the
    copy's own published files."""
    import shutil

    data = workdir / "data"
    shutil.copytree(source.data, data, ignore=shutil.ignore_patterns("published", "docs"))
    return run_pipeline(data, workdir / "dagster_home", SP_DBT_TARGET=target, **extra_env)


def engine_warehouse(run: PipelineRun, target: str, postgres_url: str | None = None):
    """An in-memory DuckDB copy of every mart, published model and seed the engine built for
    ``run``, under the names the DuckDB warehouse uses (main.<model>), so a test written
    against warehouse.duckdb reads the other engine's build unchanged."""
    from orchestration.lib import engines
    from orchestration.lib.settings import resolve_settings

    settings = resolve_settings(
        {
            "data_dir": str(run.data),
            "dbt_target": target,
            "warehouse_postgres_url": postgres_url,
        }
    )
    nodes = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())["nodes"]
    wanted = sorted(
        (node["schema"], node.get("alias") or node["name"])
        for node in nodes.values()
        if node["resource_type"] == "seed"
        or (node["resource_type"] == "model" and node["fqn"][1] in ("marts", "published"))
    )
    return engines.open_warehouse(settings, wanted)

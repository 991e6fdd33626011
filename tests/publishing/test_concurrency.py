"""Readers never see a half-published or mixed state. Reader processes loop over the published
DuckDB file and the PostgreSQL schema (a fresh connection per read, as a dashboard refresh
does) while two publishes run at once; every read must succeed and see one publication: the run
id in ``_publication`` equal to every table's ``publication_run_id``."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import readers
import sqlalchemy as sa

from orchestration.lib.publish import (
    PUBLIC,
    PUBLISHED_FILE,
    publish_duckdb,
    publish_parquet,
    publishable_marts,
    read_marts,
)
from orchestration.lib.publish.postgres import DEFAULT_READER_ROLE, publish_postgres
from orchestration.lib.settings import DBT_PROJECT_DIR, load_settings

if TYPE_CHECKING:
    from pg_server import PgServer
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
READERS_PER_STORE = 2


def test_readers_see_old_or_new_never_a_mix(
    published_run: PipelineRun, pg: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(published_run.data / "warehouse.duckdb", data / "warehouse.duckdb")
    monkeypatch.setenv("SP_DATA_DIR", str(data))
    settings = load_settings()
    marts = publishable_marts(DBT_PROJECT_DIR / "target" / "manifest.json")
    tables = read_marts(settings, marts)
    # Readers read the public audience (the internal one is published alongside).
    names = [m.name for m in marts if m.audience == PUBLIC]

    # A first publication, so readers have something to read from the start.
    publish_duckdb(settings, marts, "run-0", tables)
    publish_postgres(pg.url(), marts, tables, "run-0")
    reader_user, reader_password = "concurrency_reader", "reader-pw"
    admin = sa.create_engine(pg.url())
    with admin.begin() as conn:
        if not conn.execute(
            sa.text("select 1 from pg_roles where rolname = :u"), {"u": reader_user}
        ).scalar():
            password = sa.String().literal_processor(dialect=conn.dialect)(reader_password)
            conn.execute(
                sa.text(
                    f"create role {reader_user} login password {password} "
                    f"in role {DEFAULT_READER_ROLE}"
                )
            )
    admin.dispose()
    dsn = (
        f"host=127.0.0.1 port={pg.port} dbname=postgres user={reader_user} "
        f"password={reader_password}"
    )

    ctx = mp.get_context("spawn")
    manager = ctx.Manager()
    stop = manager.Event()
    duck_out, pg_out = manager.list(), manager.list()
    procs = [
        ctx.Process(
            target=readers.duckdb_reader,
            args=(str(settings.published / PUBLISHED_FILE), names, stop, duck_out),
        )
        for _ in range(READERS_PER_STORE)
    ] + [
        ctx.Process(target=readers.postgres_reader, args=(dsn, names, stop, pg_out))
        for _ in range(READERS_PER_STORE)
    ]
    for p in procs:
        p.start()
    # Let every reader get going before publishing.
    deadline = time.monotonic() + 60
    while (len(duck_out) < 5 or len(pg_out) < 5) and time.monotonic() < deadline:
        time.sleep(0.1)

    timings: dict[str, float] = {}
    errors: list[BaseException] = []

    def publish(run_id: str) -> None:
        try:
            started = time.perf_counter()
            publish_duckdb(settings, marts, run_id, tables)
            publish_parquet(settings, marts, run_id, tables)
            publish_postgres(pg.url(), marts, tables, run_id)
            timings[run_id] = time.perf_counter() - started
        except BaseException as exc:  # re-raised below in the test thread
            errors.append(exc)

    publishers = [threading.Thread(target=publish, args=(f"run-{i}",)) for i in (1, 2)]
    for t in publishers:
        t.start()
    for t in publishers:
        t.join()
    time.sleep(1.0)  # reads after the last swap
    stop.set()
    for p in procs:
        p.join(timeout=30)
    duck, post = list(duck_out), list(pg_out)
    manager.shutdown()
    assert not errors, errors

    summary = {}
    for store, reads in (("duckdb", duck), ("postgres", post)):
        failed = [r for r in reads if "error" in r]
        mixed = [r for r in reads if "error" not in r and not r["consistent"]]
        seen = sorted({r["run_id"] for r in reads if "error" not in r})
        summary[store] = {
            "reads": len(reads),
            "errors": len(failed),
            "inconsistent": len(mixed),
            "run_ids_seen": seen,
            "max_read_seconds": round(max(r.get("seconds", 0) for r in reads), 4),
            "first_errors": [r["error"] for r in failed[:3]],
        }
    summary["publish_seconds"] = timings
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "concurrency_summary.json").write_text(json.dumps(summary, indent=2))

    for store in ("duckdb", "postgres"):
        s = summary[store]
        assert s["errors"] == 0, s
        assert s["inconsistent"] == 0, s
        assert s["reads"] >= 20, s
        # Readers saw the publications change under them, not just one static state.
        assert "run-0" in s["run_ids_seen"] and len(s["run_ids_seen"]) >= 2, s

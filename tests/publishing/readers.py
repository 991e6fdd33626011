"""Reader processes for the concurrency test: each loops, opening the published store afresh
like a BI tool refreshing a dashboard, and records what every read saw. Module-level functions
so that multiprocessing can start them in fresh interpreters (one DuckDB instance each: a
process caches open database files, which would hide what a separate client sees)."""

from __future__ import annotations

import time
from multiprocessing.synchronize import Event

TABLES_SQL = "select table_name from information_schema.tables where table_name like 'pub_%'"


def _consistency_sql(tables: list[str], schema: str | None) -> str:
    """One statement, so one snapshot: the publication's run id and every table's run ids."""
    prefix = f'"{schema}".' if schema else ""
    parts = [f"(select run_id from {prefix}_publication) as publication"]
    for t in tables:
        parts.append(f'(select count(distinct publication_run_id) from {prefix}"{t}") as "n_{t}"')
        parts.append(f'(select min(publication_run_id) from {prefix}"{t}") as "id_{t}"')
    return "select " + ", ".join(parts)


def _judge(row: tuple, started: float) -> dict:
    publication, rest = row[0], row[1:]
    counts, ids = rest[0::2], rest[1::2]
    consistent = all(n == 1 for n in counts) and all(i == publication for i in ids)
    return {
        "run_id": publication,
        "consistent": consistent,
        "seconds": time.perf_counter() - started,
    }


def duckdb_reader(path: str, tables: list[str], stop: Event, out: list) -> None:
    import duckdb

    sql = _consistency_sql(tables, None)
    while not stop.is_set():
        started = time.perf_counter()
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                row = con.sql(sql).fetchall()[0]
            finally:
                con.close()
            out.append(_judge(row, started))
        except Exception as exc:  # every reader error is the result under test
            out.append({"error": f"{type(exc).__name__}: {exc}"})


def postgres_reader(dsn: str, tables: list[str], stop: Event, out: list) -> None:
    import psycopg2

    sql = _consistency_sql(tables, "published")
    while not stop.is_set():
        started = time.perf_counter()
        try:
            con = psycopg2.connect(dsn)
            try:
                with con.cursor() as cur:
                    cur.execute(sql)
                    row = cur.fetchone()
            finally:
                con.close()
            out.append(_judge(row, started))
        except Exception as exc:  # every reader error is the result under test
            out.append({"error": f"{type(exc).__name__}: {exc}"})

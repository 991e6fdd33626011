"""One dbt project, three engines: the session's tiny run rebuilt with the warehouse on
PostgreSQL and on Spark (SP_DBT_TARGET) must succeed end to end — ingest, dbt, publish — and
give the DuckDB build's answers: every mart, published model and seed the same rows (same keys,
same values; numbers equal to 1e-9 relative), and the published files the same. The planted-truth
tests run on each engine too (test_planted_truth_tiny.py, parametrised by engine)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import duckdb
import pytest
from pipeline_runs import VOLATILE_COLUMNS, engine_warehouse, table_fingerprints

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = [pytest.mark.e2e, pytest.mark.engines]

ENGINES = ["postgres", "spark"]


@pytest.fixture(scope="module", params=ENGINES)
def engine_run(request: pytest.FixtureRequest) -> tuple[str, PipelineRun]:
    return request.param, request.getfixturevalue(f"pipeline_tiny_{request.param}")


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[tuple]]:
    """A table's columns (volatile ones left out) and rows, sorted by their values (numbers
    first rounded to 6 significant digits for the order only, so that a last-digit difference
    between engines cannot reorder rows)."""
    columns = [
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns where table_name = ? "
            "order by ordinal_position",
            [table],
        ).fetchall()
        if c not in VOLATILE_COLUMNS
    ]
    rows = con.execute(
        "select " + ", ".join(f'"{c}"' for c in columns) + f' from main."{table}"'
    ).fetchall()

    def key(row: tuple) -> tuple:
        return tuple(
            (0, "") if v is None else (1, float(f"{v:.6g}")) if isinstance(v, float) else (1, v)
            for v in row
        )

    return columns, sorted(rows, key=key)


def _same(a: object, b: object, scale: float) -> bool:
    """Equal; numbers to 1e-9 relative, and to 1e-9 of the column's largest magnitude
    (``scale``) near zero, where a difference of two nearly equal sums (a DiD) leaves no
    relative precision to compare."""
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9 * scale)
    return a == b


def _differences(columns: list[str], rows_d: list[tuple], rows_o: list[tuple]) -> list[str]:
    scales = [
        max((abs(float(r[i])) for r in rows_d if isinstance(r[i], float)), default=0.0)
        for i in range(len(columns))
    ]
    found = []
    for x, y in zip(rows_d, rows_o, strict=True):
        for i, (a, b) in enumerate(zip(x, y, strict=True)):
            if not _same(a, b, scales[i]):
                found.append(f"{columns[i]}: DuckDB {a!r}, engine {b!r}")
    return found


def test_the_nightly_pipeline_runs_end_to_end_on_the_engine(engine_run) -> None:
    engine, run = engine_run
    assert run.returncode == 0, run.output[-6000:]
    note = {"postgres": "PostgreSQL raw schema", "spark": "Spark:"}[engine]
    assert note in run.output
    assert (run.data / "published" / "marts.duckdb").exists()
    assert (run.data / "published" / "internal" / "marts.duckdb").exists()


def test_every_mart_equals_the_duckdb_build(engine_run, pipeline_tiny, request) -> None:
    """Same tables, same columns, same rows; numbers to 1e-9 relative."""
    engine, run = engine_run
    assert run.returncode == 0, run.output[-6000:]
    url = request.getfixturevalue("warehouse_postgres_url") if engine == "postgres" else None
    duck = duckdb.connect(str(pipeline_tiny.data / "warehouse.duckdb"), read_only=True)
    with engine_warehouse(run, engine, url) as other:
        built = {
            t
            for (t,) in other.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }
        expected = {
            t
            for (t,) in duck.execute(
                "select table_name from information_schema.tables where table_schema = 'main' "
                "and (table_name like 'fct_%' or table_name like 'dim_%' "
                "or table_name like 'pub_%')"
            ).fetchall()
        }
        assert expected and expected <= built, sorted(expected - built)
        differing = {}
        for table in sorted(built):
            cols_d, rows_d = _rows(duck, table)
            cols_o, rows_o = _rows(other, table)
            if cols_d != cols_o:
                differing[table] = f"columns {cols_d} != {cols_o}"
            elif len(rows_d) != len(rows_o):
                differing[table] = f"{len(rows_d)} rows on DuckDB, {len(rows_o)} on {engine}"
            else:
                bad = _differences(cols_d, rows_d, rows_o)
                if bad:
                    differing[table] = f"{len(bad)} values differ: {bad[:5]}"
    duck.close()
    assert not differing, differing


def test_published_files_equal_the_duckdb_builds(engine_run, pipeline_tiny) -> None:
    """Publishing reads each engine's warehouse; what it writes does not depend on the engine."""
    engine, run = engine_run
    for sub in ("published/marts.duckdb", "published/internal/marts.duckdb"):
        assert table_fingerprints(run.data / sub) == table_fingerprints(pipeline_tiny.data / sub), (
            engine,
            sub,
        )

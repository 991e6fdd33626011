"""The Parquet store as a reader sees it: through the ``parquet`` link, one file per published
mart, every file (and ``_publication.parquet``) from the same run as the DuckDB file, with the
same rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib.publish import PUBLIC, publishable_marts
from orchestration.lib.settings import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e


def test_every_mart_is_a_parquet_file_of_the_same_run(published_run: PipelineRun) -> None:
    published = published_run.data / "published"
    link = published / "parquet"
    assert link.is_symlink() and link.resolve().is_dir()
    marts = {
        m.name
        for m in publishable_marts(DBT_PROJECT_DIR / "target" / "manifest.json")
        if m.audience == PUBLIC  # the internal audience has its own folder
    }
    files = {p.stem for p in link.glob("*.parquet")}
    assert files == marts | {"_publication"}

    con = duckdb.connect(str(published / "marts.duckdb"), read_only=True)
    try:
        (duckdb_run,) = con.execute("select run_id from _publication").fetchall()[0]
        duckdb_rows = {
            m: con.execute(f'select count(*) from "{m}"').fetchall()[0][0] for m in marts
        }
    finally:
        con.close()

    (parquet_run,) = pq.read_table(link / "_publication.parquet").column("run_id").to_pylist()
    assert parquet_run == duckdb_run
    for mart in sorted(marts):
        table = pq.read_table(link / f"{mart}.parquet")
        assert set(table.column("publication_run_id").to_pylist()) == {duckdb_run}, mart
        assert table.num_rows == duckdb_rows[mart], mart
        assert "disclosure_status" in table.column_names, mart

"""BI drivers bundle older DuckDB: the published file must open in a DuckDB 1.4 client. The
test builds its own virtual environment with duckdb 1.4 (cached between runs under pytest's
cache directory) and opens the file read-only there, in a separate interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e
CLIENT_PIN = "duckdb==1.4.*"
READ = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = [r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()]
rows = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}
run = con.execute("select run_id from _publication").fetchone()[0]
print(json.dumps({"version": duckdb.__version__, "rows": rows, "run": run}))
"""


@pytest.fixture(scope="session")
def duckdb14_python(request: pytest.FixtureRequest) -> Path:
    env_dir = Path(request.config.cache.mkdir("duckdb14-client")) / "venv"
    python = env_dir / "bin" / "python"
    marker = env_dir / ".installed"
    if not marker.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", CLIENT_PIN],
            check=True,
            capture_output=True,
        )
        marker.touch()
    return python


def test_published_file_opens_in_duckdb_14(
    published_run: PipelineRun, duckdb14_python: Path
) -> None:
    path = published_run.data / "published" / "marts.duckdb"
    out = subprocess.run(
        [str(duckdb14_python), "-c", READ, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    seen = json.loads(out.stdout)
    assert seen["version"].startswith("1.4."), seen
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        expected = {
            t: con.sql(f'select count(*) from "{t}"').fetchall()[0][0]
            for (t,) in con.sql("select table_name from duckdb_tables()").fetchall()
        }
    assert seen["rows"] == expected and "pub_referrals_monthly" in expected
    assert sys.version_info >= (3, 11)

"""The example questions in docs/analysts.md, and the answers printed under them.

The page is the single source of the questions: each is a ``### N. ...`` heading, a ```sql
block and an ``Answer (...):`` table. The printed answers come from the ``tiny`` estate with
seed 7 (the estate the test suite's shared pipeline run uses), so the test
(``tests/publishing/test_analyst_examples.py``) can hold the page to what the queries return:

    python -m scripts.analyst_examples --write      # generate tiny/7, run the pipeline, rewrite
    python -m scripts.analyst_examples --write --published data/published/marts.duckdb
    python -m scripts.analyst_examples --check --published <marts.duckdb>   # exit 1 if stale

``--published`` must be a public ``marts.duckdb`` published from tiny with seed 7, or the page
would print another estate's answers under the tiny label.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "analysts.md"
TIER, SEED = "tiny", 7
LABEL = f"{TIER} tier, seed {SEED}"
EXAMPLE = re.compile(
    r"(?P<head>### (?P<n>\d+)\. [^\n]+\n\n)```sql\n(?P<sql>.*?)```\n\n"
    r"(?P<answer>Answer[^\n]*\n\n(?:\|[^\n]*\n)+)",
    re.DOTALL,
)


@dataclass(frozen=True)
class Example:
    number: int
    sql: str
    answer: str  # the printed "Answer (...):" line and table, as on the page
    answer_columns: list[str]


def examples(text: str | None = None) -> list[Example]:
    """The page's examples in order."""
    text = DOC.read_text() if text is None else text
    found = []
    for m in EXAMPLE.finditer(text):
        header = m.group("answer").split("\n\n", 1)[1].splitlines()[0]
        columns = [c.strip() for c in header.strip("|").split("|")]
        found.append(Example(int(m.group("n")), m.group("sql"), m.group("answer"), columns))
    return found


def run(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple]]:
    rel = con.sql(sql)
    return rel.columns, rel.fetchall()


def cell(value: object) -> str:
    """A value as the page prints it: NULL as NULL (suppressed, or nothing to compute, such as
    the mean of no one); floats to 10 significant digits, as two runs of the same data may
    differ in the last bit of a parallel sum, which must not change the page."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return format(value, ".10g")
    return str(value)


def markdown(columns: list[str], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def answer(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The ``Answer (...):`` block the page should print under this query."""
    columns, rows = run(con, sql)
    return f"Answer ({LABEL}):\n\n{markdown(columns, rows)}"


def rewritten(published: Path, text: str | None = None) -> str:
    """The page with every answer re-run against this published file."""
    text = DOC.read_text() if text is None else text
    con = duckdb.connect(str(published), read_only=True)
    try:
        return EXAMPLE.sub(
            lambda m: (
                f"{m.group('head')}```sql\n{m.group('sql')}```\n\n{answer(con, m.group('sql'))}"
            ),
            text,
        )
    finally:
        con.close()


def published_tiny(workdir: Path) -> Path:
    """Generate the tiny estate with the test suite's seed and run the whole pipeline on it, as
    the tests' shared run does; the public published file it writes."""
    data = workdir / "data"
    subprocess.run(
        [sys.executable, "-m", "estate", "generate", "--tier", TIER, "--seed", str(SEED)]
        + ["--out", str(data), "--force"],
        check=True,
        cwd=ROOT,
    )
    sys.path.insert(0, str(ROOT / "tests"))
    from pipeline_runs import run_pipeline  # the tests' own way to run it

    run = run_pipeline(data, workdir / "dagster_home")
    if run.returncode != 0:
        raise SystemExit(f"the pipeline failed:\n{run.output[-4000:]}")
    return data / "published" / "marts.duckdb"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the answers in the page")
    mode.add_argument("--check", action="store_true", help="exit 1 when the page is stale")
    parser.add_argument(
        "--published",
        type=Path,
        help=f"a public marts.duckdb published from {LABEL} (default: generate and run one)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="analyst_examples_") as tmp:
        published = args.published or published_tiny(Path(tmp))
        new = rewritten(published)
    if args.write:
        DOC.write_text(new)
        print(f"rewrote {len(examples(new))} answers in {DOC.relative_to(ROOT)} ({LABEL})")
        return 0
    if new != DOC.read_text():
        print(f"{DOC.relative_to(ROOT)} is stale: run python -m scripts.analyst_examples --write")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

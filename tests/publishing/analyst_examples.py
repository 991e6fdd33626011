"""The example questions in docs/analysts.md: parsed from the page (so the page is the single
source), run by tests/publishing/test_analyst_examples.py, and, with ``python
tests/publishing/analyst_examples.py <published marts.duckdb>``, re-answered in place (the
answers printed in the page are from the demo tier)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

DOC = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"
EXAMPLE = re.compile(
    r"(?P<head>### (?P<n>\d+)\. [^\n]+\n\n)```sql\n(?P<sql>.*?)```\n\n"
    r"(?P<answer>Answer[^\n]*\n\n(?:\|[^\n]*\n)+)",
    re.DOTALL,
)


@dataclass(frozen=True)
class Example:
    number: int
    sql: str
    answer_columns: list[str]


def examples(text: str | None = None) -> list[Example]:
    text = DOC.read_text() if text is None else text
    found = []
    for m in EXAMPLE.finditer(text):
        header = m.group("answer").split("\n\n", 1)[1].splitlines()[0]
        columns = [c.strip() for c in header.strip("|").split("|")]
        found.append(Example(int(m.group("n")), m.group("sql"), columns))
    return found


def run(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple]]:
    rel = con.sql(sql)
    return rel.columns, rel.fetchall()


def markdown(columns: list[str], rows: list[tuple]) -> str:
    def cell(v: object) -> str:
        return "*suppressed*" if v is None else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def reanswer(published: Path, label: str) -> None:
    """Rewrite every answer in the page from this published file."""
    con = duckdb.connect(str(published), read_only=True)
    text = DOC.read_text()

    def replace(m: re.Match) -> str:
        columns, rows = run(con, m.group("sql"))
        return (
            f"{m.group('head')}```sql\n{m.group('sql')}```\n\n"
            f"Answer ({label}):\n\n{markdown(columns, rows)}"
        )

    DOC.write_text(EXAMPLE.sub(replace, text))
    con.close()


if __name__ == "__main__":
    reanswer(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "demo tier, seed 42")

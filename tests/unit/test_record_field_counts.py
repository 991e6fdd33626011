"""The vectorised field count behind ragged-row detection agrees with Python's csv module (the
reference reader) on awkward CSV: quoted delimiters, escaped quotes, line breaks inside quotes,
every field quoted or only some, rows too long and too short — and with polars' own record
count, which the ingest relies on to line the counts up with parsed rows."""

from __future__ import annotations

import csv
import io
import random

import polars as pl
import pytest

from orchestration.lib.ingest import record_field_counts

PIECES = ["a", "Z00001", "", " ", ",", "|", '"', '""', "\n", "x y", "9", "é"]


def random_rows(rng: random.Random, n: int, width: int) -> list[list[str]]:
    rows = [[f"h{i}" for i in range(width)]]
    for _ in range(n):
        fields = max(1, width + rng.choice([0, 0, 0, 0, -1, 1, 2, -2]))
        rows.append(
            ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 3))) for _ in range(fields)]
        )
    return rows


@pytest.mark.parametrize("delimiter", [",", "|"])
@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_field_counts_match_the_csv_module(delimiter: str, quoting: int, seed: int) -> None:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\n")
    writer.writerows(random_rows(rng, 400, 6))
    body = out.getvalue().encode()

    reference = [len(r) for r in csv.reader(io.StringIO(out.getvalue()), delimiter=delimiter)]
    assert record_field_counts(body, delimiter).to_list() == reference
    parsed = pl.read_csv(
        io.BytesIO(body), separator=delimiter, infer_schema=False, truncate_ragged_lines=True
    )
    assert parsed.height + 1 == len(reference)


def test_a_file_without_quotes_takes_the_plain_count() -> None:
    body = b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n\n"
    assert record_field_counts(body, ",").to_list() == [3, 3, 2, 4, 1]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_quote_free_files_count_delimiters_per_line(seed: int) -> None:
    """Most extracts hold no quote character and take a numpy count over the bytes: it must
    agree with splitting the text into lines, CRLF, empty lines and a missing final newline
    included."""
    rng = random.Random(seed)
    pieces = ["a", "", ",", "9", "é", "x y", "\r"]
    lines = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))) for _ in range(300)]
    text = "\n".join(lines) + rng.choice(["", "\n"])
    body = text.encode()
    expected = [line.count(",") + 1 for line in text.removesuffix("\n").split("\n")]
    assert record_field_counts(body, ",").to_list() == expected

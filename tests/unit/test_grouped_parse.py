"""Files of one extract date that share a header are parsed in one polars call; the result
must be exactly what parsing each file alone gives — frames, row counts, problems, misshapen
rows — whatever the files hold: quoted line breaks, escaped quotes, a stray quote mid-field,
ragged and truncated rows, CRLF, a missing final newline, header-only, empty and headerless
files, cp1252, a BOM."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest

import schemas
from orchestration.lib.ingest import read_landed_file, read_landed_files
from orchestration.lib.ingest.layout import record_layout

SPEC = schemas.EXTRACTS["gp_emis_events"]
HEADERS = [c.header for c in SPEC.columns]
PIECES = ["a", "Z00001", "", " ", ",", '"', '""', "\n", "x y", "9434765919", "é", "\r\n"]


def _file(rng: random.Random, rows: int) -> bytes:
    out = io.StringIO()
    quoting = rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
    writer = csv.writer(out, quoting=quoting, lineterminator=rng.choice(["\n", "\r\n"]))
    writer.writerow(HEADERS)
    for _ in range(rows):
        width = max(1, len(HEADERS) + rng.choice([0, 0, 0, 0, 0, 0, -1, 1, -3]))
        writer.writerow(
            "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 2))) for _ in range(width)
        )
    text = out.getvalue()
    if rng.random() < 0.2:
        text = text.rstrip("\r\n")  # no final newline
    if rng.random() < 0.15:
        text = text[: rng.randint(len(text) // 2, len(text))]  # cut off mid-file
    return text.encode()


ODD = [
    b"",
    (",".join(HEADERS) + "\n").encode(),  # header only
    ",".join(HEADERS).encode(),  # header only, no newline
    ("\ufeff" + ",".join(HEADERS) + "\nE1,Z00001,9434765919,01/01/2024,1,x,\n").encode(),
    (",".join(HEADERS) + "\nE1,Z00001,9434765919,01/01/2024,1,caf\xe9,\n").encode("cp1252"),
    (",".join(HEADERS) + '\nE1,Z0"0001,9434765919,01/01/2024,1,a"b,\n').encode(),  # stray quotes
    (",".join(HEADERS) + '\nE1,"Z00001"x,9434765919,01/01/2024,1,"a,\n').encode(),  # left open
    b"E1,Z00001,9434765919,01/01/2024,1,x,\nE2,Z00001,9434765919,01/01/2024,1,x,\n",  # no header
    (",".join(reversed(HEADERS)) + "\n,x,1,01/01/2024,9434765919,Z00001,E1\n").encode(),
    (",".join(HEADERS) + "\nE1,Z00001,9434765919,01/01/2024,1,x,\n\nE2,Z1,1,1,1,1,\n").encode(),
]


def _same(a: object, b: object) -> None:
    fa, fb = a.frame, b.frame  # type: ignore[attr-defined]
    assert (fa is None) == (fb is None)
    if fa is not None:
        assert fa.equals(fb)
    pa, pb = a.row_problems, b.row_problems  # type: ignore[attr-defined]
    assert (pa is None) == (pb is None)
    if pa is not None:
        assert pa.equals(pb)
    for attr in ("name", "sha256", "encoding", "rows_read", "problem", "extra_columns"):
        assert getattr(a, attr) == getattr(b, attr), attr


@pytest.mark.parametrize("seed", range(6))
def test_grouped_parse_equals_parsing_each_file(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    contents = [_file(rng, rng.randint(0, 40)) for _ in range(12)] + ODD
    rng.shuffle(contents)
    paths = []
    for i, content in enumerate(contents):
        path = tmp_path / f"Z{i:05d}_Events_20240201.csv"
        path.write_bytes(content)
        paths.append(path)
    together = read_landed_files(SPEC, paths)
    assert len(together) == len(paths)
    for path, landed in zip(paths, together, strict=True):
        _same(landed, read_landed_file(SPEC, path))


def test_well_formed_quoting() -> None:
    ok = [b'a,b\n"x,1",2\n', b'a,b\n"say ""hi""",2\r\n', b'a,b\n"",""\n', b'a,b\n"1\n2",3']
    bad = [b'a,b\nx"y,2\n', b'a,b\n"x"y,2\n', b'a,b\n"open,2\n', b'a,b\nx,2"\n']
    assert all(record_layout(b, ",")[1] for b in ok)
    assert not any(record_layout(b, ",")[1] for b in bad)

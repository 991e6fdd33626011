"""The pandera schemas are the one definition of a valid landed row. Two things must agree with
them: the synthetic estate (it writes what the schemas read, header for header) and
docs/contracts.md (the human-readable contract names every header and raw column)."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

import schemas
from orchestration.lib.ingest.parse import decode
from schemas._base import normalise_header

ROOT = Path(__file__).resolve().parents[2]
FILE_SPECS = [s for s in schemas.EXTRACTS.values() if not s.table.startswith("cms_")]


@pytest.mark.parametrize("spec", FILE_SPECS, ids=lambda s: s.table)
def test_estate_files_carry_exactly_the_schema_headers(
    tiny_estate: Path, spec: schemas.ExtractSpec
) -> None:
    files = [
        p
        for p in sorted((tiny_estate / "landing" / spec.source).glob("*/*"))
        if spec.file_regex.match(p.name)
    ]
    assert files, f"the estate writes no {spec.table} files"
    body, _ = decode(files[-1].read_bytes())
    headers = pl.read_csv(
        io.BytesIO(body), separator=spec.delimiter, n_rows=0, infer_schema=False
    ).columns
    landed = {normalise_header(h, spec.fuzzy_headers) for h in headers}
    expected = {normalise_header(c.header, spec.fuzzy_headers) for c in spec.columns}
    assert landed == expected


@pytest.mark.parametrize("spec", list(schemas.EXTRACTS.values()), ids=lambda s: s.table)
def test_contract_document_names_every_table_and_raw_column(spec: schemas.ExtractSpec) -> None:
    text = (ROOT / "docs" / "contracts.md").read_text()
    assert spec.table in text
    if spec.fuzzy_headers or spec.source == "workforce":
        return  # survey items and the publisher's layout are listed as prose, not a column table
    missing = [c.raw for c in spec.columns if c.raw not in text and c.raw.upper() not in text]
    assert missing == [], f"{spec.table}: raw columns not in docs/contracts.md"

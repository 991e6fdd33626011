"""person_id = HMAC-SHA256(key, NHS number), computed inside DuckDB so that millions of rows
are hashed without a Python loop. Identical to ``hmac.new(key, nhs, sha256).hexdigest()``."""

from __future__ import annotations

import duckdb
import polars as pl

_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104)


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        import hashlib

        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def pseudonymise(
    frame: pl.DataFrame, column: str, key: bytes, out: str | None = None
) -> pl.DataFrame:
    """Replace ``column`` (raw identifier) by its keyed hash, in place or into ``out``.
    Nulls stay null."""
    inner, outer = _pads(key)
    con = duckdb.connect()
    try:
        con.register("identifiers", frame.select(pl.col(column).alias("v")).to_arrow())
        hashed = con.sql(
            "select case when v is null then null else "
            "sha256($outer::blob || unhex(sha256($inner::blob || encode(v)))) end as h from identifiers",
            params={"inner": inner, "outer": outer},
        ).pl()
    finally:
        con.close()
    return frame.with_columns(hashed["h"].alias(out or column))

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
    Nulls stay null. Each distinct value is hashed once: a person has many appointments."""
    inner, outer = _pads(key)
    distinct = frame.select(pl.col(column).alias("__ident")).unique().drop_nulls()
    con = duckdb.connect()
    try:
        con.register("identifiers", distinct.to_arrow())
        hashed = con.sql(
            "select __ident, sha256($outer::blob || unhex(sha256($inner::blob || encode(__ident)))) "
            "as __pseudo from identifiers",
            params={"inner": inner, "outer": outer},
        ).pl()
    finally:
        con.close()
    joined = frame.join(
        hashed, left_on=column, right_on="__ident", how="left", maintain_order="left"
    )
    return joined.with_columns(pl.col("__pseudo").alias(out or column)).drop("__pseudo")

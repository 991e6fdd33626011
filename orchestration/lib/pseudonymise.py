"""person_id = HMAC-SHA256(key, NHS number), computed inside DuckDB so that millions of rows
are hashed without a Python loop. Identical to ``hmac.new(key, nhs, sha256).hexdigest()``."""

from __future__ import annotations

import hashlib

import duckdb
import polars as pl

_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104)


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


# Pseudonyms already computed in this process, per key: people recur in every monthly
# registration snapshot and in most appointment files, so each NHS number is hashed once per
# run rather than once per row or per file. Bounded so a national backfill cannot exhaust memory.
_MEMO: dict[bytes, pl.DataFrame] = {}
_MEMO_MAX_ROWS = 5_000_000


def _hash(values: pl.DataFrame, key: bytes) -> pl.DataFrame:
    inner, outer = _pads(key)
    con = duckdb.connect()
    try:
        con.register("identifiers", values.to_arrow())
        return con.sql(
            "select __ident, sha256($outer::blob || unhex(sha256($inner::blob || encode(__ident)))) "
            "as __pseudo from identifiers",
            params={"inner": inner, "outer": outer},
        ).pl()
    finally:
        con.close()


def pseudonymise(
    frame: pl.DataFrame, column: str, key: bytes, out: str | None = None
) -> pl.DataFrame:
    """Replace ``column`` (raw identifier) by its keyed hash, in place or into ``out``.
    Nulls stay null. Each distinct value is hashed once (and remembered for the process)."""
    digest = hashlib.sha256(key).digest()  # the memo is keyed by a digest, not the key itself
    known = _MEMO.get(digest, pl.DataFrame(schema={"__ident": pl.Utf8, "__pseudo": pl.Utf8}))
    distinct = frame.select(pl.col(column).cast(pl.Utf8).alias("__ident")).unique().drop_nulls()
    new = distinct.join(known, on="__ident", how="anti")
    if new.height:
        known = pl.concat([known, _hash(new, key)])
        _MEMO[digest] = known if known.height <= _MEMO_MAX_ROWS else known.clear()
    joined = frame.join(
        known, left_on=column, right_on="__ident", how="left", maintain_order="left"
    )
    return joined.with_columns(pl.col("__pseudo").alias(out or column)).drop("__pseudo")

"""person_id = HMAC-SHA256(key, NHS number), computed inside DuckDB so that millions of rows
are hashed without a Python loop. Identical to ``hmac.new(key, nhs, sha256).hexdigest()``.

Hashing is the dear part (two SHA-256 per value) and people recur: in every monthly registration
snapshot, in most appointment and event files. So each distinct NHS number is hashed once per
process and remembered. The memory is a sorted array of the numbers as integers beside the
position of each pseudonym, so a partition's lookup is a binary search and a gather — no hash
table over everyone seen so far is rebuilt per partition (a join against a growing table was
a third of the ingest's time on an ICB-sized estate).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104)
# Bounded so a national backfill cannot exhaust memory (about 90 bytes per person remembered).
_MEMO_MAX = 5_000_000
TEN_DIGITS = r"^[0-9]{10}$"  # ASCII only: \d also matches other scripts' digits


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _hash(values: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA256 hex digests of ``values`` (strings, no nulls), in the same order."""
    inner, outer = _pads(key)
    con = duckdb.connect()
    try:
        con.register("identifiers", pl.DataFrame({"__ident": values}).to_arrow())
        # A plain projection keeps the input order (preserve_insertion_order is on by default);
        # the identifiers come back too, and are compared, so that is checked rather than trusted.
        out = con.sql(
            "select __ident, sha256($outer::blob || unhex(sha256($inner::blob || encode(__ident)))) "
            "as __pseudo from identifiers",
            params={"inner": inner, "outer": outer},
        ).pl()
    finally:
        con.close()
    if not out["__ident"].equals(values.alias("__ident")):
        raise RuntimeError("pseudonymisation: DuckDB returned the identifiers out of order")
    return out["__pseudo"]


@dataclass
class _Memo:
    """Pseudonyms of 10-digit identifiers already hashed with one key."""

    numbers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # sorted
    slots: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # into digests
    digests: pl.Series = field(default_factory=lambda: pl.Series("__pseudo", [], dtype=pl.Utf8))

    def positions(self, wanted: np.ndarray) -> np.ndarray:
        """Slot of each wanted number in ``digests``, or -1 when not remembered."""
        if not len(self.numbers):
            return np.full(len(wanted), -1, dtype=np.int64)
        at = np.searchsorted(self.numbers, wanted)
        inside = at < len(self.numbers)
        found = np.zeros(len(wanted), dtype=bool)
        found[inside] = self.numbers[at[inside]] == wanted[inside]
        return np.where(found, self.slots[np.minimum(at, len(self.numbers) - 1)], -1)

    def recall(self, wanted: np.ndarray) -> tuple[np.ndarray, pl.Series]:
        """Which wanted numbers are remembered (a mask) and their digests, in wanted order.
        The digests are gathered here, at once, because a slot means something only until the
        next ``add``: that may start the memory afresh and reuse every slot for someone else."""
        slots = self.positions(wanted)
        found = slots >= 0
        return found, self.digests.gather(pl.Series(slots[found], dtype=pl.Int64))

    def add(self, numbers: np.ndarray, digests: pl.Series) -> None:
        """Remember new (distinct, not yet remembered) numbers and their digests, never more
        than ``_MEMO_MAX`` (read now, so a test can lower it): when they do not fit, the memory
        starts afresh with them, or with as many as fit when one partition alone has more."""
        limit = max(_MEMO_MAX, 0)
        if len(self.numbers) + len(numbers) > limit:
            empty = _Memo()
            self.numbers, self.slots, self.digests = empty.numbers, empty.slots, empty.digests
            numbers, digests = numbers[:limit], digests.head(limit)
        first_slot = len(self.digests)
        order = np.argsort(numbers, kind="stable")
        new_numbers, new_slots = numbers[order], first_slot + order.astype(np.int64)
        at = np.searchsorted(self.numbers, new_numbers)
        self.numbers = np.insert(self.numbers, at, new_numbers)
        self.slots = np.insert(self.slots, at, new_slots)
        self.digests = pl.concat([self.digests, digests.alias("__pseudo")], rechunk=False)
        if self.digests.n_chunks() > 32:
            self.digests = self.digests.rechunk()


_MEMO: dict[bytes, _Memo] = {}  # keyed by a digest of the key, never the key itself
# The ingest pseudonymises several partitions at once (ingest.PARTITION_WORKERS); the memory is
# read and grown under this lock (its arrays are replaced, not updated in place, but a lookup
# must not see half an add).
_MEMO_LOCK = threading.Lock()


def forget() -> None:
    """Drop every remembered pseudonym (up to ``_MEMO_MAX``, ~0.5 GB): once a run's ingest is
    done, so the process does not hold them while dbt builds beside it."""
    with _MEMO_LOCK:
        _MEMO.clear()


def pseudonymise(
    frame: pl.DataFrame, column: str, key: bytes, out: str | None = None
) -> pl.DataFrame:
    """Replace ``column`` (raw identifier) by its keyed hash, in place or into ``out``.
    Nulls stay null. Each distinct 10-digit value is hashed once per process; anything else
    (an identifier with spaces, letters, the wrong length — quarantined downstream, but its
    pseudonym is what the quarantine shows) is hashed on every call: there are few of them."""
    values = frame.get_column(column).cast(pl.Utf8)
    ten_digit = values.str.contains(TEN_DIGITS).fill_null(False)
    numbers = pl.select(
        pl.when(pl.lit(ten_digit)).then(pl.lit(values).cast(pl.Int64, strict=False)).alias("__num")
    )
    # Distinct numbers, sorted: a binary search with sorted queries walks the memory in order,
    # ten times faster than one per row in row order.
    distinct = numbers.get_column("__num").drop_nulls().unique().sort().to_numpy()
    with _MEMO_LOCK:
        memo = _MEMO.setdefault(hashlib.sha256(key).digest(), _Memo())
        # The answer is complete (remembered digests plus fresh ones) before the memory is
        # touched, so growing or restarting it cannot change what this lookup returns.
        found, remembered = memo.recall(distinct)
        new = distinct[~found]
        fresh = (
            _hash(pl.Series(new).cast(pl.Utf8).str.zfill(10), key)
            if len(new)
            else pl.Series("__pseudo", [], dtype=pl.Utf8)
        )
        memo.add(new, fresh)
    lookup = pl.concat(
        [
            pl.DataFrame({"__num": distinct[found], "__pseudo": remembered}),
            pl.DataFrame({"__num": new, "__pseudo": fresh}),
        ]
    )
    pseudo = numbers.join(lookup, on="__num", how="left", maintain_order="left").get_column(
        "__pseudo"
    )

    other = values.is_not_null() & ~ten_digit
    if other.any():
        odd = values.filter(other).unique()
        lookup = pl.DataFrame({"__ident": odd, "__odd": _hash(odd, key)})
        filled = (
            pl.DataFrame({"__ident": values, "__pseudo": pseudo})
            .join(lookup, on="__ident", how="left", maintain_order="left")
            .select(pl.coalesce("__pseudo", "__odd"))
            .to_series()
        )
        pseudo = filled
    return frame.with_columns(pseudo.alias(out or column))

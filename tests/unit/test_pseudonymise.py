"""person_id is HMAC-SHA256(key, NHS number): the DuckDB implementation used at ingest must give
exactly what the standard library gives, and different keys must give unrelated ids."""

import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
import pytest

from orchestration.lib import pseudonymise as pseudonymise_module
from orchestration.lib.pseudonymise import pseudonymise
from orchestration.lib.settings import ConfigError, load_settings


def test_matches_python_hmac_including_long_keys() -> None:
    numbers = ["9434765919", "9990000018", "0000000051"]
    for key in (b"k", b"a-secret-key", b"x" * 100):  # > 64 bytes: hashed first, per RFC 2104
        out = pseudonymise(pl.DataFrame({"nhs": numbers}), "nhs", key)
        assert out["nhs"].to_list() == [
            hmac.new(key, n.encode(), hashlib.sha256).hexdigest() for n in numbers
        ]


def test_nulls_stay_null_and_other_columns_untouched() -> None:
    out = pseudonymise(pl.DataFrame({"nhs": [None, "9434765919"], "x": [1, 2]}), "nhs", b"k")
    assert out["nhs"][0] is None and out["x"].to_list() == [1, 2]


def test_an_identifier_in_other_digits_still_gets_a_pseudonym() -> None:
    """Arabic-Indic digits are not an NHS number (the schema quarantines the row), but the
    quarantine shows its pseudonym, so it must have one: never null, never the raw value."""
    other_digits = "\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669"
    out = pseudonymise(pl.DataFrame({"nhs": [other_digits]}), "nhs", b"k")
    assert out["nhs"].to_list() == [
        hmac.new(b"k", other_digits.encode(), hashlib.sha256).hexdigest()
    ]


def test_key_changes_every_id() -> None:
    frame = pl.DataFrame({"nhs": ["9434765919"]})
    assert (
        pseudonymise(frame, "nhs", b"one")["nhs"][0] != pseudonymise(frame, "nhs", b"two")["nhs"][0]
    )


def _synthetic_numbers(count: int, seed: int) -> list[str]:
    """Random 10-digit strings (leading zeros included): synthetic, never real NHS numbers."""
    drawn = np.random.default_rng(seed).integers(0, 10**10, size=count, dtype=np.int64)
    return [str(n).zfill(10) for n in drawn]


def _mismatches(out: pl.Series, values: list[str | None], key: bytes) -> int:
    """Rows whose pseudonym is not the standard library's HMAC (a null must stay null)."""
    expected = [
        None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values
    ]
    return sum(got != want for got, want in zip(out.to_list(), expected, strict=True))


def _remembered(memo: dict, key: bytes) -> int:
    return len(memo[hashlib.sha256(key).digest()].numbers)


@pytest.fixture
def small_memo(monkeypatch: pytest.MonkeyPatch) -> dict:
    """A memory of 1,000 numbers, empty to begin with, so that a test can fill it quickly."""
    memo: dict = {}
    monkeypatch.setattr(pseudonymise_module, "_MEMO_MAX", 1_000)
    monkeypatch.setattr(pseudonymise_module, "_MEMO", memo)
    return memo


def test_a_frame_that_fills_the_memory_midway_still_gets_every_pseudonym_right(
    small_memo: dict,
) -> None:
    """900 numbers are remembered; the next frame brings those back with 300 new ones, more
    than the room left, so the memory starts afresh part-way through the lookup. The
    remembered pseudonyms must still be the right people's."""
    key = b"a-secret-key"
    people = _synthetic_numbers(1_200, seed=1)
    seen, new = people[:900], people[900:]
    first = pseudonymise(pl.DataFrame({"nhs": seen}), "nhs", key)
    mismatches = _mismatches(first["nhs"], seen, key)
    assert mismatches == 0

    order = np.random.default_rng(2).permutation(1_200)
    spaced = f"{new[0][:3]} {new[0][3:6]} {new[0][6:]}"  # as written on a letter: hashed as is
    mixed = [people[i] for i in order] + [None, spaced, "ABC1234567", "12345"]
    for _ in range(2):  # the second time, from the memory as it was left
        out = pseudonymise(pl.DataFrame({"nhs": mixed}), "nhs", key)
        mismatches = _mismatches(out["nhs"], mixed, key)
        assert mismatches == 0
    remembered = _remembered(small_memo, key)
    assert remembered <= 1_000


def test_a_remembered_person_keeps_their_pseudonym_when_the_memory_restarts(
    small_memo: dict,
) -> None:
    """After a restart the memory's places are reused by newcomers, so a place looked up
    before the restart could name one of them: a wrong pseudonym, no error to warn anyone."""
    key = b"k"
    seen = sorted(_synthetic_numbers(900, seed=6))
    pseudonymise(pl.DataFrame({"nhs": seen}), "nhs", key)
    rows = seen[:5] + _synthetic_numbers(300, seed=7)  # 300 newcomers: more than the room left
    out = pseudonymise(pl.DataFrame({"nhs": rows}), "nhs", key)
    mismatches = _mismatches(out["nhs"], rows, key)
    assert mismatches == 0


def test_a_frame_with_more_numbers_than_the_memory_holds(small_memo: dict) -> None:
    """One partition alone can bring more people than the memory holds: every one still gets
    the right pseudonym, and the memory keeps no more than its limit."""
    key = b"k"
    numbers = _synthetic_numbers(2_500, seed=3)
    for _ in range(2):
        out = pseudonymise(pl.DataFrame({"nhs": numbers}), "nhs", key)
        mismatches = _mismatches(out["nhs"], numbers, key)
        assert mismatches == 0
    remembered = _remembered(small_memo, key)
    assert remembered <= 1_000


def test_concurrent_partitions_and_repeated_resets_never_swap_people(small_memo: dict) -> None:
    """The ingest pseudonymises three partitions at once through one shared memory. With room
    for 1,000 numbers and frames drawn from 3,000 people, the memory starts afresh again and
    again while other frames are mid-lookup; every row must still get its own pseudonym."""
    key = b"a-secret-key"
    people = _synthetic_numbers(3_000, seed=4)
    rng = np.random.default_rng(5)
    frames: list[list[str | None]] = []
    for _ in range(40):
        rows: list[str | None] = [people[i] for i in rng.integers(0, len(people), size=700)]
        for at in rng.choice(700, size=20, replace=False):  # nulls and malformed identifiers
            rows[at] = rng.choice([None, "ABC1234567", "12345", rows[at][:5] + " " + rows[at][5:]])
        frames.append(rows)

    def run(rows: list[str | None]) -> int:
        out = pseudonymise(pl.DataFrame({"nhs": rows}, schema={"nhs": pl.Utf8}), "nhs", key)
        return _mismatches(out["nhs"], rows, key)

    with ThreadPoolExecutor(3) as pool:
        mismatches = sum(pool.map(run, frames))
    assert mismatches == 0
    remembered = _remembered(small_memo, key)
    assert remembered <= 1_000


def test_production_refuses_to_run_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SP_PSEUDO_KEY", raising=False)
    monkeypatch.setenv("SP_ENV", "production")
    with pytest.raises(ConfigError, match="SP_PSEUDO_KEY"):
        load_settings()


def test_development_key_is_labelled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SP_PSEUDO_KEY", raising=False)
    monkeypatch.delenv("SP_ENV", raising=False)
    assert load_settings().pseudo_key_is_dev
    monkeypatch.setenv("SP_PSEUDO_KEY", "real-secret")
    assert not load_settings().pseudo_key_is_dev


def test_the_memory_is_given_back_before_dbt_and_pseudonyms_stay_the_same(
    small_memo: dict,
) -> None:
    """The dbt step starts by dropping the remembered pseudonyms (orchestration/lib/memory.py):
    the process no longer holds them while dbt builds, and a later frame (a rerun in the same
    process) is hashed afresh to the same pseudonyms."""
    from orchestration.lib.memory import release_after_ingest

    key = b"k"
    people = _synthetic_numbers(500, seed=8)
    first = pseudonymise(pl.DataFrame({"nhs": people}), "nhs", key)
    assert _remembered(small_memo, key) == 500
    before, after = release_after_ingest()
    assert small_memo == {}
    assert before > 0 and after > 0  # /proc/self/statm read on Linux
    again = pseudonymise(pl.DataFrame({"nhs": people}), "nhs", key)
    assert again["nhs"].to_list() == first["nhs"].to_list()
    assert _mismatches(again["nhs"], people, key) == 0

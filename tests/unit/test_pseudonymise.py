"""person_id is HMAC-SHA256(key, NHS number): the DuckDB implementation used at ingest must give
exactly what the standard library gives, and different keys must give unrelated ids."""

import hashlib
import hmac

import polars as pl
import pytest

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

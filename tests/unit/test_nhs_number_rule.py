"""The NHS number Modulus 11 rule, as the ingest applies it (vectorised, in the schema) and as
the estate applies it (scalar): worked examples, and the two implementations agree."""

import polars as pl
import pytest

from estate.nhs_number import is_valid_nhs_number
from schemas._base import nhs_number_valid


def vectorised(values: list[str | None]) -> list[bool | None]:
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.Utf8})
        .select(nhs_number_valid(pl.col("v")))["v"]
        .to_list()
    )


# 943 476 591 9: 9×10 + 4×9 + 3×8 + 4×7 + 7×6 + 6×5 + 5×4 + 9×3 + 1×2 = 299;
# 299 mod 11 = 2; 11 − 2 = 9 = the tenth digit → valid.
@pytest.mark.parametrize(
    ("number", "valid", "why"),
    [
        ("9434765919", True, "worked example above: check digit 9"),
        ("9434765918", False, "wrong check digit (expects 9)"),
        # 999 000 001: 9×10+9×9+9×8+0+0+0+0+0+1×2 = 245; 245 mod 11 = 3; 11-3 = 8 → 9990000018
        ("9990000018", True, "test-range number, check digit 8"),
        # 999 000 007: 90+81+72+7×2 = 257; 257 mod 11 = 4; 11-4 = 7 → 9990000077
        ("9990000077", True, "test-range number, check digit 7"),
        # 999 000 003: 243+3×2 = 249; 249 mod 11 = 7 → check 4; so ...0034 is valid, ...0035 not
        ("9990000035", False, "wrong check digit (expects 4)"),
        # 000 000 005: 5×2 = 10; 10 mod 11 = 10; 11-10 = 1 → 0000000051 valid
        ("0000000051", True, "check digit 1"),
        # 000 000 006: 12 mod 11 = 1 → 11-1 = 10 → no valid check digit exists for this stem
        ("0000000060", False, "remainder gives 10: the number can never be valid"),
        ("0000000000", True, "sum 0 → 11 → check digit 0"),
        ("943476591", False, "nine digits"),
        ("94347659190", False, "eleven digits"),
        ("943 476 5919", False, "spaces are not stripped at ingest: the source must send digits"),
        ("94347659A9", False, "non-digit"),
        # the worked example in Arabic-Indic digits: a regex \d takes them, Int64 does not
        (
            "\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669",
            False,
            "only ASCII 0-9 are digits of an NHS number",
        ),
    ],
)
def test_modulus_11_worked_examples(number: str, valid: bool, why: str) -> None:
    assert is_valid_nhs_number(number) is valid, why
    assert vectorised([number]) == [valid], why


def test_scalar_and_vectorised_rules_agree_on_every_stem_of_a_block() -> None:
    numbers = [f"999{i:06d}{d}" for i in range(0, 3000) for d in range(10)]
    assert vectorised(numbers) == [is_valid_nhs_number(n) for n in numbers]


def test_null_is_left_to_the_nullable_flag() -> None:
    assert vectorised([None]) == [None]

"""NHS number Modulus 11 rule — the single implementation the product imports.

An NHS number is 10 digits. Digits 1–9 are multiplied by the weights 10, 9, 8, 7, 6, 5, 4, 3, 2
and summed; ``check = 11 - (sum mod 11)``. A check of 11 becomes 0; a check of 10 means the
9-digit stem can never form a valid number (such stems are never issued). The 10th digit must
equal the check.

Worked example: 943476591 → 9·10+4·9+3·8+4·7+7·6+6·5+5·4+9·3+1·2 = 299; 299 mod 11 = 2;
11 − 2 = 9 → 9434765919 is valid.

The scalar functions are pure Python (no imports); the array helpers import numpy lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

WEIGHTS: tuple[int, ...] = (10, 9, 8, 7, 6, 5, 4, 3, 2)

#: Synthetic ranges (all inside numbers beginning 9, never issued to patients in England).
#: The estate uses the smallest that holds the population: the official 999 test range holds
#: ~909k valid numbers only, so larger tiers widen to 99… and then 9….
PREFIXES: tuple[str, ...] = ("999", "99", "9")


def check_digit(stem9: str) -> int | None:
    """Check digit for a 9-digit stem, or None when the remainder rule gives 10 (invalid stem)."""
    if len(stem9) != 9 or not stem9.isascii() or not stem9.isdigit():
        raise ValueError(f"stem must be 9 ASCII digits, got {stem9!r}")
    total = sum(int(d) * w for d, w in zip(stem9, WEIGHTS, strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(s: str) -> bool:
    """True when ``s`` is exactly 10 ASCII digits with a correct Modulus 11 check digit."""
    if not isinstance(s, str) or len(s) != 10 or not s.isascii() or not s.isdigit():
        return False
    cd = check_digit(s[:9])
    return cd is not None and cd == int(s[9])


# --------------------------------------------------------------------------- vectorised


def check_digits_array(stems: np.ndarray) -> np.ndarray:
    """Check digits for an int64 array of 9-digit stems; 10 marks an invalid stem."""
    import numpy as np

    stems = np.asarray(stems, dtype=np.int64)
    total = np.zeros(stems.shape, dtype=np.int64)
    rest = stems.copy()
    for w in reversed(WEIGHTS):  # least significant digit carries weight 2
        total += (rest % 10) * w
        rest //= 10
    check = 11 - (total % 11)
    check[check == 11] = 0
    return check.astype(np.int8)


def is_valid_array(numbers: np.ndarray) -> np.ndarray:
    """Boolean array: is each int64 10-digit number Modulus 11 valid?"""
    import numpy as np

    numbers = np.asarray(numbers, dtype=np.int64)
    in_range = (numbers >= 1_000_000_000) & (numbers <= 9_999_999_999)
    cd = check_digits_array(numbers // 10)
    return in_range & (cd != 10) & (cd == numbers % 10)


def prefix_for(n: int) -> str:
    """Smallest synthetic prefix whose valid-number capacity comfortably holds ``n`` numbers."""
    for p in PREFIXES:
        capacity = 10 ** (9 - len(p)) * 10 // 11
        if n * 1.5 < capacity:
            return p
    raise ValueError(f"cannot allocate {n} synthetic NHS numbers")


def generate_nhs_numbers(rng: np.random.Generator, n: int, prefix: str = "999") -> np.ndarray:
    """``n`` distinct valid NHS numbers (int64) starting with ``prefix``, in random order."""
    import numpy as np

    span = 10 ** (9 - len(prefix))
    base = int(prefix) * span
    out = np.empty(0, dtype=np.int64)
    want = n
    while out.size < n:
        cand = base + rng.integers(0, span, size=int(want * 1.3) + 64, dtype=np.int64)
        cd = check_digits_array(cand)
        cand = cand[cd != 10] * 10 + cd[cd != 10]
        out = np.concatenate([out, cand])
        _, first = np.unique(out, return_index=True)
        out = out[np.sort(first)]
        want = n - out.size
    out = out[:n]
    return out


def invalid_nhs_numbers(rng: np.random.Generator, n: int, prefix: str = "999") -> list[str]:
    """``n`` invalid numbers alternating the two failure kinds: wrong check digit, then a stem
    whose remainder gives 10 (followed by any digit)."""
    import numpy as np

    span = 10 ** (9 - len(prefix))
    base = int(prefix) * span
    stems = base + rng.integers(0, span, size=max(64, n * 40), dtype=np.int64)
    cd = check_digits_array(stems)
    good, bad = stems[cd != 10], stems[cd == 10]
    good_cd = cd[cd != 10]
    out: list[str] = []
    for i in range(n):
        if i % 2 == 0:
            j = i // 2
            wrong = (int(good_cd[j]) + 1 + int(rng.integers(0, 9))) % 10
            out.append(f"{int(good[j])}{wrong}")
        else:
            out.append(f"{int(bad[i // 2])}{int(rng.integers(0, 10))}")
    assert not any(is_valid_nhs_number(s) for s in out)
    return out

"""The Dutch citizen service number (BSN) and its 11-proof (elfproef)."""

from __future__ import annotations

import re

_NINE_DIGITS = re.compile(r"^[0-9]{9}$")


def is_valid_bsn(value: str) -> bool:
    """Nine digits whose weighted sum (9..2, then -1) is a multiple of 11, and not all zeros."""
    if not _NINE_DIGITS.match(value) or value == "000000000":
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(digit) * weight for digit, weight in zip(value, weights, strict=True)) % 11 == 0

"""The Dutch citizen service number (BSN): its 11-proof (elfproef), and finding one in free text.

A BSN never leaves the gateway and never enters its audit log; free text is where one could
slip through, so text that reaches another party or the log is searched for anything that
passes for one.
"""

from __future__ import annotations

import re

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

_NINE_DIGITS_ONLY = re.compile(r"[0-9]{9}")  # fullmatch: no trailing newline passes
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)

# Nine digits standing alone, written together or grouped by single spaces, dots or hyphens
# (999900006, 999 900 006, 999.900.006). A digit or letter right beside them makes them part
# of something else: a uuid, a hex digest, a longer number such as a telephone number.
_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[0-9](?:[ .\-]?[0-9]){8}(?![0-9A-Za-z])")


def is_valid_bsn(value: str) -> bool:
    """Nine digits whose weighted sum (9..2, then -1) is a multiple of 11, and not all zeros."""
    if not _NINE_DIGITS_ONLY.fullmatch(value) or value == "000000000":
        return False
    return sum(int(digit) * weight for digit, weight in zip(value, _WEIGHTS, strict=True)) % 11 == 0


def redact_bsns(text: str) -> str:
    """Free text keeps its meaning but loses anything that passes for a BSN."""
    return _IN_TEXT.sub(
        lambda match: "[redacted]" if _passes(match.group(0)) else match.group(0), text
    )


def holds_bsn(text: str) -> bool:
    """True when something in ``text`` passes for a BSN."""
    return any(_passes(match.group(0)) for match in _IN_TEXT.finditer(text))


def _passes(written: str) -> bool:
    return is_valid_bsn("".join(character for character in written if character.isdigit()))


BSN_IN_TEXT = "bsn_in_text"  # the error type NO_BSN raises


def _refuse_bsn(text: str) -> str:
    if holds_bsn(text):
        raise PydanticCustomError(
            BSN_IN_TEXT,
            "holds a number that passes for a BSN: free text never names a participant that "
            "way (the subject is given in its own field)",
        )
    return text


# For a free-text field of a request model: Annotated[str, NO_BSN].
NO_BSN = AfterValidator(_refuse_bsn)

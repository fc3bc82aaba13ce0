"""The BSN leaf: the 11-proof, and a BSN found in free text however it is grouped."""

from __future__ import annotations

import pytest

from bsn import holds_bsn, is_valid_bsn, redact_bsns

VALID = "999900006"  # passes the 11-proof
INVALID = "999900007"


def test_the_eleven_proof() -> None:
    assert is_valid_bsn(VALID)
    assert not is_valid_bsn(INVALID)
    assert not is_valid_bsn("000000000")
    assert not is_valid_bsn("99990000")
    assert not is_valid_bsn(f"{VALID}\n")  # a regex's $ would let the newline through
    assert not is_valid_bsn("\uff19\uff19\uff19\uff19\uff10\uff10\uff1006")  # fullwidth digits


@pytest.mark.parametrize(
    "text",
    [
        f"client bsn:{VALID}",
        "call 999 900 006 back",
        "ref 999.900.006",
        "99990000-6",
        f"({VALID})",
        f"-{VALID}-",
    ],
)
def test_a_bsn_in_free_text_is_found_however_it_is_grouped(text: str) -> None:
    assert holds_bsn(text)
    assert "[redacted]" in redact_bsns(text)


@pytest.mark.parametrize(
    "text",
    [
        f"client {INVALID}",  # fails the 11-proof
        "call 06-12345678",  # ten digits: a telephone number
        f"0{VALID}",  # ten digits
        f"trace {VALID}ab",  # part of a longer token
        "b19d87ba-5d01-4708-ad16-999900006123",  # inside a uuid's last group
        "999  900  006",  # two spaces between groups: not one number
    ],
)
def test_digits_that_are_part_of_something_else_are_no_bsn(text: str) -> None:
    assert not holds_bsn(text)
    assert redact_bsns(text) == text

"""What the consent tests share: a catalogue, a partner, and BSNs no other participant has."""

from __future__ import annotations

import itertools

from consent.schemas import GivenBy, GivenHow, Vocabulary
from gateway.auth.access_tokens import Caller

CATEGORIES = ("care.involvement", "income.benefit", "work.capacity")
VOCABULARY = Vocabulary(
    purposes={"reintegration": frozenset(CATEGORIES)}, domains=frozenset({"uwv", "ggz"})
)
BY_PARTICIPANT = GivenHow(given_by=GivenBy.PARTICIPANT, recorded_by="participant")
UWV = Caller(party="uwv-leiden", domain="uwv", roles=("uwv",), purposes=("reintegration",),
             token_id="t-uwv")  # fmt: skip
_SERIALS = itertools.count(10_000_000)


def fresh_bsn() -> str:
    """A BSN not handed out before in this run: eight digits counted up, the ninth by the
    11-proof (a serial whose check digit would be 10 is skipped)."""
    for serial in _SERIALS:
        digits = [int(digit) for digit in f"{serial:08d}"]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            return f"{serial:08d}{check}"
    raise AssertionError("unreachable: the serials never end")

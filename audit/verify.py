"""Verify a log offline: the hash chain (docs/audit-format.md) and every signed checkpoint.

Only what is written in the format document is used, so an export and a JWKS are enough; no
database is imported here or below (a test holds that), so a verifier needs none.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain import GENESIS_HASH, HEX_DIGEST, TIMESTAMP, compute_entry_hash, plain_jcs
from audit.checkpoint_format import CHECKPOINT_FIELDS, signing_input
from audit.fields import BY_NAME, DOCUMENT_FIELDS, ENTRY_FIELDS, ENTRY_HASH, Kind, Member
from audit.keys import b64url_decode, public_keys
from audit.schemas import Outcome

OUTCOMES = frozenset(Outcome)

# Progress is reported after every this many entries.
PROGRESS_EVERY = 100_000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class VerifyReport:
    """OK, or the first sequence number at which the log is wrong and what is wrong there."""

    ok: bool
    entries: int
    checkpoints: int
    last_seq: int
    verified_through: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def summary(self) -> str:
        if self.ok:
            unsigned = self.last_seq - self.verified_through
            return (
                f"OK: {self.entries} entries, {self.checkpoints} checkpoints; chain intact "
                f"through seq {self.last_seq}, signed through seq {self.verified_through}"
                + (f" ({unsigned} newer entries not yet checkpointed)" if unsigned else "")
            )
        where = f"seq {self.first_bad_seq}" if self.first_bad_seq is not None else "the log"
        return f"FAILED at {where}: {self.problem}"


class _Problem(Exception):
    def __init__(self, seq: int | None, message: str) -> None:
        super().__init__(message)
        self.seq = seq
        self.message = message


def verify_log(
    entries: Iterable[Mapping[str, Any]],
    checkpoints: Iterable[Mapping[str, Any]],
    jwks: Mapping[str, Any],
    *,
    progress: Progress | None = None,
) -> VerifyReport:
    """Check every entry from seq 1 in order, and each checkpoint against its entry and key.

    ``progress``, if given, is called with the number of entries checked so far every
    PROGRESS_EVERY entries.
    """
    keys = public_keys(jwks)
    pending = sorted(checkpoints, key=_checkpoint_seq)
    state = _Walk()
    try:
        for checkpoint in pending:
            _check_checkpoint_shape(checkpoint)
        position = 0
        # The seq of the next checkpoint to check; past the end of the log when none is left.
        signed = pending[0]["seq"] if pending else 0
        for entry in entries:
            state.step(entry)
            while signed and signed <= state.last_seq:
                _check_checkpoint(pending[position], entry, keys, state.last_seq)
                state.verified_through = state.last_seq
                position += 1
                signed = pending[position]["seq"] if position < len(pending) else 0
            if progress is not None and state.count % PROGRESS_EVERY == 0:
                progress(state.count)
        if position < len(pending):
            raise _Problem(
                state.last_seq + 1,
                f"a checkpoint signs seq {pending[position]['seq']} but the log ends at seq "
                f"{state.last_seq}: entries were cut off",
            )
    except _Problem as problem:
        return VerifyReport(
            ok=False,
            entries=state.count,
            checkpoints=len(pending),
            last_seq=state.last_seq,
            verified_through=state.verified_through,
            first_bad_seq=problem.seq,
            problem=problem.message,
        )
    return VerifyReport(
        ok=True,
        entries=state.count,
        checkpoints=len(pending),
        last_seq=state.last_seq,
        verified_through=state.verified_through,
    )


class SignedPoints:
    """The checkpoints of a quick reading that hashes entries as written (verify_export.py,
    verify_database.py).

    Such a reading proves the chain from the genesis hash by hashing each entry's written JCS
    bytes. Up to the last checkpoint, a valid signature vouches that these are the bytes the
    gateway wrote, and the gateway writes only entries that pass §7, so only the entries that
    checkpoints sign need parsing, to hold each checkpoint against its entry and key. Nothing
    vouches for the entries after the last checkpoint: a forger may have written them and
    hashed them all again, so each is parsed and held to every rule of §7 (:func:`follows`).
    Every method answers False or None where the careful reading (:func:`verify_log`) must
    decide, so the quick reading's verdict is always the careful one's.
    """

    def __init__(self, checkpoints: Sequence[Mapping[str, Any]], keys: Mapping[str, Any]) -> None:
        self.by_seq = {_checkpoint_seq(checkpoint): checkpoint for checkpoint in checkpoints}
        self._count = len(checkpoints)
        self._keys = keys
        self.verified_through = 0

    @classmethod
    def of(
        cls, checkpoints: Sequence[Mapping[str, Any]], jwks: Mapping[str, Any]
    ) -> SignedPoints | None:
        try:
            for checkpoint in checkpoints:
                _check_checkpoint_shape(checkpoint)
        except _Problem:
            return None
        points = cls(checkpoints, public_keys(jwks))
        return points if len(points.by_seq) == len(checkpoints) else None

    def confirm(self, seq: int, entry: Any) -> bool:
        """The checkpoint at ``seq`` signs ``entry`` (the parsed entry at that seq) with a known key."""
        if not isinstance(entry, Mapping) or entry.get("seq") != seq:
            return False
        try:
            _check_checkpoint(self.by_seq[seq], entry, self._keys, seq)
        except _Problem:
            return False
        self.verified_through = seq
        return True

    @property
    def last_signed(self) -> int:
        """The highest seq a checkpoint signs (0: none); entries after it are checked one by one."""
        return max(self.by_seq, default=0)

    def report(self, entries: int) -> VerifyReport | None:
        """OK for a chain of ``entries`` entries, unless a checkpoint signs past its end."""
        if any(seq > entries for seq in self.by_seq):
            return None
        return VerifyReport(
            ok=True,
            entries=entries,
            checkpoints=self._count,
            last_seq=entries,
            verified_through=self.verified_through,
        )


def follows(entry: Any, previous: Mapping[str, Any] | None) -> bool:
    """Whether ``entry`` passes every rule of §7 after ``previous`` (None: it is the first).

    False means "let the careful reading decide"; ``previous`` must itself have passed.
    """
    if previous is None:
        return _quick_check(entry, 1, GENESIS_HASH, "", bytes(32)) is not None
    prev_hash = previous["entry_hash"]
    return (
        _quick_check(
            entry, previous["seq"] + 1, prev_hash, previous["recorded_at"], bytes.fromhex(prev_hash)
        )
        is not None
    )


def _checkpoint_seq(checkpoint: Mapping[str, Any]) -> int:
    seq = checkpoint.get("seq") if isinstance(checkpoint, Mapping) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else -1


class _Walk:
    """The running state of the chain walk."""

    def __init__(self) -> None:
        self.count = 0
        self.last_seq = 0
        self.prev_hash = GENESIS_HASH
        self.prev_digest = bytes(32)
        self.prev_time = ""
        self.verified_through = 0

    def step(self, entry: Mapping[str, Any]) -> None:
        expected = self.last_seq + 1
        digest = _quick_check(entry, expected, self.prev_hash, self.prev_time, self.prev_digest)
        if digest is None:
            digest = self._full_check(entry, expected)
        self.count += 1
        self.last_seq = expected
        self.prev_hash = entry["entry_hash"]
        self.prev_digest = digest
        self.prev_time = entry["recorded_at"]

    def _full_check(self, entry: Mapping[str, Any], expected: int) -> bytes:
        """Every rule of docs/audit-format.md §7 in its order; raises at the first one broken."""
        _check_entry_shape(entry, expected)
        if entry["seq"] != expected:
            raise _Problem(
                expected,
                f"found seq {entry['seq']} where seq {expected} belongs "
                "(an entry is missing, duplicated or out of order)",
            )
        if entry["prev_hash"] != self.prev_hash:
            raise _Problem(expected, "prev_hash is not the entry_hash of the entry before it")
        if entry["recorded_at"] < self.prev_time:
            raise _Problem(expected, "recorded_at is earlier than that of the entry before it")
        if compute_entry_hash(entry) != entry["entry_hash"]:
            raise _Problem(expected, "entry_hash does not match the entry's content")
        return bytes.fromhex(entry["entry_hash"])


# The quick check reads the members in JCS order (RFC 8785 §3.2.3), entry_hash last.
_HASHED_ORDER = tuple(sorted(ENTRY_FIELDS))
_READ_ORDER = (*_HASHED_ORDER, ENTRY_HASH.name)
_MEMBERS = operator.itemgetter(*_READ_ORDER)
_AT = {name: index for index, name in enumerate(_READ_ORDER)}
_SEQ, _PREV, _HASH = _AT["seq"], _AT["prev_hash"], _AT["entry_hash"]
_OUTCOMES_AT = tuple(_AT[name] for name in _READ_ORDER if BY_NAME[name].kind is Kind.OUTCOME)
_TIMES_AT = tuple(_AT[name] for name in _READ_ORDER if BY_NAME[name].kind is Kind.TIMESTAMP)
_DIGESTS_AT = tuple(_AT[name] for name in _READ_ORDER if BY_NAME[name].kind is Kind.DIGEST)
_TEXTS_AT = tuple(_AT[name] for name in _READ_ORDER if BY_NAME[name].kind is Kind.TEXTS)
_TIME = _AT["recorded_at"]


def _json_types(member: Member) -> tuple[type, ...]:
    """The Python types json gives for the member's form (§1)."""
    found: tuple[type, ...] = {Kind.SEQ: (int,), Kind.TEXTS: (list,)}.get(member.kind, (str,))
    return (*found, type(None)) if member.nullable else found


# Every combination of member types that §1 allows, in _MEMBERS order.
_SIGNATURES = frozenset(product(*(_json_types(BY_NAME[name]) for name in _READ_ORDER)))


def _quick_check(
    entry: Mapping[str, Any], expected: int, prev_hash: str, prev_time: str, prev_digest: bytes
) -> bytes | None:
    """The entry's digest when it passes every rule of §7 on cheap checks, else None.

    Strictly narrower than the full check (exact types, ASCII digits), so None only means "let
    the full check decide": it then finds the problem, or accepts what is merely unusual, and
    the report is the same either way.
    """
    if type(entry) is not dict or len(entry) != len(_READ_ORDER):
        return None
    try:
        values = _MEMBERS(entry)
        if tuple(map(type, values)) not in _SIGNATURES:
            return None
        lists_ok = all(_sorted_texts(values[at]) for at in _TEXTS_AT)
    except (KeyError, TypeError):  # a member missing, or a list holding more than strings
        return None
    if not (
        lists_ok
        and values[_SEQ] == expected
        and values[_PREV] == prev_hash
        and values[_TIME] >= prev_time
        and all(values[at] in OUTCOMES for at in _OUTCOMES_AT)
        and all(TIMESTAMP.fullmatch(values[at]) for at in _TIMES_AT)
        and all(values[at] is None or HEX_DIGEST.fullmatch(values[at]) for at in _DIGESTS_AT)
    ):
        return None
    hashed = dict(entry)
    del hashed["entry_hash"]
    encoded = plain_jcs(hashed)
    if encoded is None:
        return None
    digest = hashlib.sha256(prev_digest + encoded).digest()
    return digest if digest.hex() == values[_HASH] else None


def _sorted_texts(items: list[Any]) -> bool:
    """Sorted by code point, no duplicates; raises TypeError unless every item is a string."""
    "".join(items)  # the cheapest "strings only" check there is
    return len(items) < 2 or items == sorted(set(items))


def _check_entry_shape(entry: Mapping[str, Any], expected: int) -> None:
    if not isinstance(entry, Mapping):
        raise _Problem(expected, "an entry is not a JSON object")
    members = set(entry)
    wanted = set(DOCUMENT_FIELDS)
    if members != wanted:
        missing, extra = sorted(wanted - members), sorted(members - wanted)
        raise _Problem(expected, f"malformed entry (missing {missing}, unexpected {extra})")
    wrong = _wrong_types(entry)
    if wrong:
        raise _Problem(expected, f"malformed entry: {', '.join(wrong)} of the wrong form")


def _wrong_types(entry: Mapping[str, Any]) -> list[str]:
    return [name for name in DOCUMENT_FIELDS if not _of_its_form(BY_NAME[name], entry[name])]


def _of_its_form(member: Member, value: Any) -> bool:
    """Whether the value has the member's form (§1, §3)."""
    if value is None:
        return member.nullable
    if member.kind is Kind.SEQ:
        return isinstance(value, int) and not isinstance(value, bool)
    if member.kind is Kind.TEXTS:
        return (
            isinstance(value, list)
            and all(isinstance(item, str) for item in value)
            and value == sorted(set(value))
        )
    if member.kind is Kind.OUTCOME:
        return value in OUTCOMES
    if not isinstance(value, str):
        return False
    if member.kind is Kind.TIMESTAMP:
        return bool(TIMESTAMP.fullmatch(value))
    if member.kind is Kind.DIGEST:
        return bool(HEX_DIGEST.fullmatch(value))
    return True


def _check_checkpoint_shape(checkpoint: Mapping[str, Any]) -> None:
    seq = _checkpoint_seq(checkpoint)
    if (
        set(checkpoint) != set(CHECKPOINT_FIELDS)
        or seq < 1
        or not all(isinstance(checkpoint[name], str) for name in CHECKPOINT_FIELDS[1:])
    ):
        raise _Problem(seq if seq >= 1 else None, "malformed checkpoint")


def _check_checkpoint(
    checkpoint: Mapping[str, Any],
    entry: Mapping[str, Any],
    keys: Mapping[str, Ed25519PublicKey],
    seq: int,
) -> None:
    if checkpoint["seq"] != seq:
        raise _Problem(checkpoint["seq"], "a checkpoint signs a seq that is not in the log")
    key = keys.get(checkpoint["kid"])
    if key is None:
        raise _Problem(seq, f"checkpoint signed with unknown key {checkpoint['kid']!r}")
    message = signing_input(
        seq=checkpoint["seq"],
        entry_hash=checkpoint["entry_hash"],
        recorded_at=checkpoint["recorded_at"],
    )
    try:
        key.verify(b64url_decode(checkpoint["signature"]), message)
    except (InvalidSignature, ValueError):
        raise _Problem(seq, "checkpoint signature does not verify") from None
    if (checkpoint["entry_hash"], checkpoint["recorded_at"]) != (
        entry["entry_hash"],
        entry["recorded_at"],
    ):
        raise _Problem(seq, "the signed checkpoint does not match the entry (log rewritten)")

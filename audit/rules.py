"""The rules an entry must pass (docs/audit-format.md §1, §3, §8), quickly and carefully.

The quick check is strictly narrower than the careful one (exact types, ASCII digits): when it
says no, the careful check decides, finds the problem or accepts what is merely unusual, and
the verdict is the same either way. Pure: no database.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Mapping
from itertools import product
from typing import Any

from audit.actions import Outcome
from audit.chain import GENESIS_HASH, HEX_DIGEST, TIMESTAMP, compute_entry_hash, plain_jcs
from audit.fields import BY_NAME, VERSIONS, Kind, Member, document_fields

OUTCOMES = frozenset(Outcome)


class Problem(Exception):
    """The first thing wrong with a log: where (a seq, or None for the file) and what."""

    def __init__(self, seq: int | None, message: str) -> None:
        super().__init__(message)
        self.seq = seq
        self.message = message


class Link:
    """What the next entry is checked against: the previous entry's seq, hash, time and format
    version (seq 0 and the genesis hash before the first)."""

    __slots__ = ("digest", "entry_hash", "recorded_at", "seq", "version")

    def __init__(self) -> None:
        self.seq = 0
        self.entry_hash = GENESIS_HASH
        self.digest = bytes(32)
        self.recorded_at = ""
        self.version = 1

    @classmethod
    def after(cls, entry: Mapping[str, Any]) -> Link:
        """The link an entry that passed leaves for the next one."""
        link = cls()
        link.seq, link.entry_hash = entry["seq"], entry["entry_hash"]
        link.digest, link.recorded_at = bytes.fromhex(link.entry_hash), entry["recorded_at"]
        link.version = version_of(entry)
        return link

    def step(self, entry: Mapping[str, Any], digest: bytes) -> None:
        self.seq += 1
        self.entry_hash, self.digest = entry["entry_hash"], digest
        self.recorded_at = entry["recorded_at"]
        self.version = version_of(entry)


def version_of(entry: Mapping[str, Any]) -> int:
    """The format version whose members an entry has (the latest it could be)."""
    return _BY_SIZE.get(len(entry), VERSIONS[-1])


def check(entry: Any, link: Link) -> bytes:
    """The entry's digest (its entry_hash's bytes) when it passes every rule after ``link``;
    raises Problem at the first rule it breaks, in the order of §8."""
    digest = quick_check(entry, link)
    return digest if digest is not None else careful_check(entry, link)


def follows(entry: Any, previous: Mapping[str, Any] | None) -> bool:
    """Whether ``entry`` passes every rule of §8 after ``previous`` (None: it is the first);
    False means "let the careful reading decide"."""
    return quick_check(entry, Link() if previous is None else Link.after(previous)) is not None


def careful_check(entry: Any, link: Link) -> bytes:
    """Every rule of §8 in its order; raises Problem at the first one broken."""
    expected = link.seq + 1
    version = _check_shape(entry, expected)
    if version < link.version:
        raise Problem(expected, f"a version {version} entry after a version {link.version} one")
    if entry["seq"] != expected:
        raise Problem(
            expected,
            f"found seq {entry['seq']} where seq {expected} belongs "
            "(an entry is missing, duplicated or out of order)",
        )
    if entry["prev_hash"] != link.entry_hash:
        raise Problem(expected, "prev_hash is not the entry_hash of the entry before it")
    if entry["recorded_at"] < link.recorded_at:
        raise Problem(expected, "recorded_at is earlier than that of the entry before it")
    if compute_entry_hash(entry) != entry["entry_hash"]:
        raise Problem(expected, "entry_hash does not match the entry's content")
    return bytes.fromhex(entry["entry_hash"])


def _check_shape(entry: Any, expected: int) -> int:
    """The entry's format version when it has exactly one version's members, each of its form."""
    if not isinstance(entry, Mapping):
        raise Problem(expected, "an entry is not a JSON object")
    members = set(entry)
    versions = [v for v in VERSIONS if members == set(document_fields(v))]
    if not versions:
        wanted = set(document_fields(VERSIONS[-1]))
        missing, extra = sorted(wanted - members), sorted(members - wanted)
        raise Problem(expected, f"malformed entry (missing {missing}, unexpected {extra})")
    version = versions[0]
    names = document_fields(version)
    wrong = [name for name in names if not _of_its_form(BY_NAME[name], entry[name])]
    if wrong:
        raise Problem(expected, f"malformed entry: {', '.join(wrong)} of the wrong form")
    return version


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


class _Form:
    """How the quick check reads one format version: members in JCS order (RFC 8785 §3.2.3),
    entry_hash last, their places and the combinations of types §1 allows."""

    def __init__(self, version: int) -> None:
        names = document_fields(version)
        order = (*sorted(names[:-1]), names[-1])
        self.version = version
        self.members = operator.itemgetter(*order)
        at = {name: index for index, name in enumerate(order)}
        self.seq, self.prev, self.time, self.hash = (
            at["seq"], at["prev_hash"], at["recorded_at"], at["entry_hash"],
        )  # fmt: skip
        self.outcomes = tuple(at[n] for n in order if BY_NAME[n].kind is Kind.OUTCOME)
        self.times = tuple(at[n] for n in order if BY_NAME[n].kind is Kind.TIMESTAMP)
        self.digests = tuple(at[n] for n in order if BY_NAME[n].kind is Kind.DIGEST)
        self.texts = tuple(at[n] for n in order if BY_NAME[n].kind is Kind.TEXTS)
        self.signatures = frozenset(product(*(_json_types(BY_NAME[n]) for n in order)))


def _json_types(member: Member) -> tuple[type, ...]:
    """The Python types json gives for the member's form (§1)."""
    found: tuple[type, ...] = {Kind.SEQ: (int,), Kind.TEXTS: (list,)}.get(member.kind, (str,))
    return (*found, type(None)) if member.nullable else found


_FORMS = {len(document_fields(version)): _Form(version) for version in VERSIONS}
_BY_SIZE = {size: form.version for size, form in _FORMS.items()}


def quick_check(entry: Any, link: Link) -> bytes | None:
    """The entry's digest when it passes every rule of §8 on cheap checks, else None."""
    form = _FORMS.get(len(entry)) if type(entry) is dict else None
    if form is None or form.version < link.version:
        return None
    try:
        values = form.members(entry)
        if tuple(map(type, values)) not in form.signatures:
            return None
        lists_ok = all(_sorted_texts(values[at]) for at in form.texts)
    except (KeyError, TypeError):  # a member missing, or a list holding more than strings
        return None
    if not (
        lists_ok
        and values[form.seq] == link.seq + 1
        and values[form.prev] == link.entry_hash
        and values[form.time] >= link.recorded_at
        and all(values[at] in OUTCOMES for at in form.outcomes)
        and all(TIMESTAMP.fullmatch(values[at]) for at in form.times)
        and all(values[at] is None or HEX_DIGEST.fullmatch(values[at]) for at in form.digests)
    ):
        return None
    hashed = dict(entry)
    del hashed["entry_hash"]
    encoded = plain_jcs(hashed)
    if encoded is None:
        return None
    digest = hashlib.sha256(link.digest + encoded).digest()
    return digest if digest.hex() == values[form.hash] else None


def _sorted_texts(items: list[Any]) -> bool:
    """Sorted by code point, no duplicates; raises TypeError unless every item is a string."""
    "".join(items)  # the cheapest "strings only" check there is
    return len(items) < 2 or items == sorted(set(items))

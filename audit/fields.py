"""The members of an audit entry, declared once (docs/audit-format.md §1).

The hashed member list, the table's columns, the officer's entry view, the documents read back
from rows and every verifier's type rules are derived from ``MEMBERS``; the caller's draft
(audit/schemas.py) takes its limits from here, and a test holds its fields to the members a
caller supplies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """The JSON form of a member, as §1 states it."""

    SEQ = "integer"  # ≥ 1, gap-free
    TIMESTAMP = "timestamp"  # §3
    TEXT = "string"
    DIGEST = "digest"  # 64 lowercase hex digits
    TEXTS = "texts"  # array of strings, sorted by code point, no duplicates
    OUTCOME = "outcome"  # allow, deny, ok or error


# The version of docs/audit-format.md the gateway writes entries in; version 1 entries lack
# the members of version 2 and stay as they were written.
FORMAT_VERSION = 2


@dataclass(frozen=True, slots=True)
class Member:
    """One member of an entry: its form, whether it may be null, its stored width, its writer,
    and the format version that introduced it."""

    name: str
    kind: Kind
    nullable: bool = False
    width: int | None = None  # the column's width; the draft refuses longer text
    by_log: bool = False  # the log sets it (seq, time, chain), not the caller's draft
    since: int = 1


MEMBERS: tuple[Member, ...] = (
    Member("seq", Kind.SEQ, by_log=True),
    Member("recorded_at", Kind.TIMESTAMP, by_log=True),
    Member("trace_id", Kind.TEXT, nullable=True, width=64),
    Member("actor_party", Kind.TEXT, width=64),
    Member("actor_domain", Kind.TEXT, width=32),
    # The acting professional: the partner's own opaque, stable user id (NEN 7513), if it sent one.
    Member("actor_user", Kind.TEXT, nullable=True, width=64, since=2),
    Member("action", Kind.TEXT, width=40),
    Member("subject_ref", Kind.TEXT, nullable=True, width=128),
    Member("purpose", Kind.TEXT, nullable=True, width=64),
    Member("categories", Kind.TEXTS),
    Member("consent_ids", Kind.TEXTS),
    Member("decision_id", Kind.TEXT, nullable=True, width=64),
    Member("policy_revision", Kind.TEXT, nullable=True, width=128),
    Member("outcome", Kind.OUTCOME, width=8),
    Member("reason", Kind.TEXT, nullable=True, width=1000),
    Member("payload_digest", Kind.DIGEST, nullable=True),
    Member("prev_hash", Kind.DIGEST, by_log=True),
)
# Not hashed itself: the hash of the others (§2).
ENTRY_HASH = Member("entry_hash", Kind.DIGEST, by_log=True)

BY_NAME = {member.name: member for member in (*MEMBERS, ENTRY_HASH)}
VERSIONS = tuple(range(1, FORMAT_VERSION + 1))


def fields_of(version: int) -> tuple[str, ...]:
    """The hashed members of an entry of this format version, in the order exports show them."""
    return tuple(member.name for member in MEMBERS if member.since <= version)


def document_fields(version: int) -> tuple[str, ...]:
    """The members of an entry document of this format version: the hashed ones and entry_hash."""
    return (*fields_of(version), ENTRY_HASH.name)


# The hashed members of the entries the gateway writes now.
ENTRY_FIELDS = fields_of(FORMAT_VERSION)
# An entry document: the hashed members and entry_hash.
DOCUMENT_FIELDS = (*ENTRY_FIELDS, ENTRY_HASH.name)
# What a caller's draft supplies.
DRAFT_FIELDS = tuple(member.name for member in MEMBERS if not member.by_log)


def width(name: str) -> int:
    """The stored width of a text member (the draft's and the column's limit)."""
    found = BY_NAME[name].width
    if found is None:
        raise KeyError(f"{name} has no width")
    return found


def of_kind(*kinds: Kind) -> tuple[str, ...]:
    """The names of the members of these kinds, in declaration order (entry_hash included)."""
    return tuple(member.name for member in (*MEMBERS, ENTRY_HASH) if member.kind in kinds)

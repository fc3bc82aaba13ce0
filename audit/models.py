"""Tables of the audit log: entries (a hash chain) and signed checkpoints. Append-only.

The entry table's columns are the members of audit/fields.py, one for one; the mapped class
declares their Python types for the type checker only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from audit.fields import ENTRY_HASH, MEMBERS, Kind, Member
from dbtypes import UTCDateTime, named_metadata


class AuditBase(DeclarativeBase):
    """Tables owned by the audit package; its own metadata and its own migration branch."""

    metadata = named_metadata()


# Officers filter on these; a participant's history is read by (subject_ref, seq).
_INDEXED = frozenset({"recorded_at", "actor_party", "action"})


def _column(member: Member) -> Column[Any]:
    kind: Any
    if member.kind is Kind.SEQ:
        return Column(member.name, BigInteger, primary_key=True, autoincrement=False)
    if member.kind is Kind.TIMESTAMP:
        kind = UTCDateTime()
    elif member.kind is Kind.TEXTS:
        kind = JSON
    elif member.kind is Kind.DIGEST:
        kind = String(64)
    else:
        kind = String(member.width)
    return Column(
        member.name,
        kind,
        nullable=member.nullable,
        index=member.name in _INDEXED or None,
        unique=member is ENTRY_HASH or None,
    )


entries_table = Table(
    "audit_entries",
    AuditBase.metadata,
    *(_column(member) for member in (*MEMBERS, ENTRY_HASH)),
    # The JCS the entry_hash was taken over (the members but entry_hash), as written by the
    # gateway: verifying the stored log hashes these bytes and holds the columns against them.
    Column("canonical", Text, nullable=False, server_default=""),
    # The format version the entry was written in (fields.py): which members its document has.
    Column("version", SmallInteger, nullable=False, server_default="1"),
    # migration audit_0002
    Index("ix_audit_entries_subject_ref_seq", "subject_ref", "seq"),
    # migration audit_0006: the tree's leaves in order, read without the entries' rows
    Index("ix_audit_entries_seq_entry_hash", "seq", "entry_hash"),
)


class AuditEntry(AuditBase):
    """One link of the chain; its columns are exactly the members of docs/audit-format.md §1."""

    __table__ = entries_table

    seq: Mapped[int]
    recorded_at: Mapped[datetime]
    trace_id: Mapped[str | None]
    actor_party: Mapped[str]
    actor_domain: Mapped[str]
    actor_user: Mapped[str | None]
    action: Mapped[str]
    subject_ref: Mapped[str | None]
    purpose: Mapped[str | None]
    categories: Mapped[list[str]]
    consent_ids: Mapped[list[str]]
    decision_id: Mapped[str | None]
    policy_revision: Mapped[str | None]
    outcome: Mapped[str]
    reason: Mapped[str | None]
    payload_digest: Mapped[str | None]
    prev_hash: Mapped[str]
    entry_hash: Mapped[str]
    canonical: Mapped[str]
    version: Mapped[int]


class AuditCheckpoint(AuditBase):
    """A signed checkpoint at one entry. Version 1: an Ed25519 signature over the entry's (seq,
    entry_hash, recorded_at). Version 2 (``note`` set): a C2SP tlog-checkpoint, the root hash of
    the Merkle tree over entries 1..seq signed as a note; ``signature`` is the note's."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kid: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    root_hash: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class AuditTreeNode(AuditBase):
    """A perfect subtree of the Merkle tree (audit/tree.py): levels 8, 16, 24… only, since
    everything else is at most 255 hashes away from these and the entries' own hashes."""

    __tablename__ = "audit_tree_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCosignature(AuditBase):
    """A witness's cosignature (C2SP tlog-cosignature) of the version 2 checkpoint at ``seq``."""

    __tablename__ = "audit_cosignatures"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(255), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    line: Mapped[str] = mapped_column(Text)  # the note signature line, as the witness sent it
    cosigned_at: Mapped[datetime] = mapped_column(UTCDateTime())

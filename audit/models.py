"""Tables of the audit log: entries (a hash chain) and signed checkpoints. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dbtypes import UTCDateTime, named_metadata

# The same convention as the gateway's tables, so constraint names are predictable everywhere.


class AuditBase(DeclarativeBase):
    """Tables owned by the audit package; its own metadata and its own migration branch."""

    metadata = named_metadata()


class AuditEntry(AuditBase):
    """One link of the chain; its columns are exactly the fields of docs/audit-format.md."""

    __tablename__ = "audit_entries"
    # A participant's history is read by subject in seq order (migration audit_0002).
    __table_args__ = (Index("ix_audit_entries_subject_ref_seq", "subject_ref", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    trace_id: Mapped[str | None] = mapped_column(String(64))
    actor_party: Mapped[str] = mapped_column(String(64), index=True)
    actor_domain: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject_ref: Mapped[str | None] = mapped_column(String(128))
    purpose: Mapped[str | None] = mapped_column(String(64))
    categories: Mapped[list[str]] = mapped_column(JSON)
    consent_ids: Mapped[list[str]] = mapped_column(JSON)
    decision_id: Mapped[str | None] = mapped_column(String(64))
    policy_revision: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(1000))
    payload_digest: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The JCS the entry_hash was taken over (the members above but entry_hash), as written by the
    # gateway: verifying the stored log hashes these bytes and holds the columns against them.
    canonical: Mapped[str] = mapped_column(Text, server_default="")


class AuditCheckpoint(AuditBase):
    """An Ed25519 signature over one entry's (seq, entry_hash, recorded_at)."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kid: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))

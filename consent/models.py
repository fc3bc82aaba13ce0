"""Consent tables: immutable consent versions and an append-only event history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dbtypes import UTCDateTime, named_metadata

CLOSING_EVENTS = ("revoked", "superseded")


class ConsentBase(DeclarativeBase):
    """Tables owned by the consent registry."""

    metadata = named_metadata()


class Consent(ConsentBase):
    """One version of a consent: its terms never change; an amendment is a new row that
    supersedes it. ``closed_at`` copies the time of its closing event, written in the same
    transaction, so that whether a version is open is an index look-up, not a scan of events."""

    __tablename__ = "consents"
    __table_args__ = (
        # A participant's open versions, found without reading the closed ones; the prefix
        # serves every read of all their versions.
        Index("ix_consents_participant_id_closed_at", "participant_id", "closed_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(36))
    grantee: Mapped[str] = mapped_column(String(64))
    grantee_kind: Mapped[str] = mapped_column(String(8))  # party | domain
    purpose: Mapped[str] = mapped_column(String(64))
    categories: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    given_by: Mapped[str] = mapped_column(String(16))  # participant | professional | representative
    representative_role: Mapped[str | None] = mapped_column(String(16))
    evidence_ref: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(64))  # "participant" or the party id
    version: Mapped[int] = mapped_column(Integer)
    supersedes: Mapped[str | None] = mapped_column(ForeignKey("consents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # superseded or revoked


class ConsentEvent(ConsentBase):
    """Append-only history: granted, amended, superseded, revoked (at most one closing event)."""

    __tablename__ = "consent_events"
    __table_args__ = (
        Index(
            "uq_consent_events_one_closing",
            "consent_id",
            unique=True,
            sqlite_where=text("kind IN ('revoked', 'superseded')"),
            postgresql_where=text("kind IN ('revoked', 'superseded')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"), index=True)
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    related_consent_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

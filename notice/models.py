"""Deletion-notice tables: one row per notice (its integer id is the recipient's feed cursor)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dbtypes import UTCDateTime, named_metadata


class NoticeBase(DeclarativeBase):
    """Tables owned by the deletion notices."""

    metadata = named_metadata()


class DeletionNotice(NoticeBase):
    """A recipient is asked to delete categories it received about a participant, and why.

    ``dedupe_key`` names the cause (reason, the closed consent or the participant, the
    recipient): the same cause never makes two notices, so none is ever delivered as two.
    """

    __tablename__ = "deletion_notices"
    __table_args__ = (
        Index("ix_deletion_notices_recipient_party_id", "recipient_party", "id"),
        Index("ix_deletion_notices_participant_id", "participant_id"),
        Index("ix_deletion_notices_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(String(36), unique=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_party: Mapped[str] = mapped_column(String(64))
    recipient_domain: Mapped[str] = mapped_column(String(32))
    participant_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(16))  # withdrawn | narrowed | expired | erased
    consent_id: Mapped[str | None] = mapped_column(String(36))
    categories: Mapped[list[str]] = mapped_column(JSON)
    disclosures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # open | deleted | kept | superseded
    ground: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    superseded_by: Mapped[str | None] = mapped_column(String(36))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExpiryWatermark(NoticeBase):
    """How far consent expiries have been swept: the next sweep starts from here."""

    __tablename__ = "notice_expiry_watermarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    swept_through: Mapped[datetime] = mapped_column(UTCDateTime())

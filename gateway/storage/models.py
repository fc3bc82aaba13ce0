"""Tables of contributed case data and of the participants' wrapped data keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dbtypes import UTCDateTime
from gateway.core.db import Base


class DataKey(Base):
    """A participant's AES-256 data key, wrapped by the KEK; destroying it erases their data."""

    __tablename__ = "participant_data_keys"

    participant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("participants.id"), primary_key=True
    )
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    kek_id: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Contribution(Base):
    """One item of case data a partner contributed, sealed under the participant's data key."""

    __tablename__ = "contributions"
    __table_args__ = (
        Index("ix_contributions_participant_category", "participant_id", "category"),
        # An officer's scope: the participants the officer's organisation contributed about.
        Index("ix_contributions_source_party_participant", "source_party", "participant_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(36), ForeignKey("participants.id"))
    category: Mapped[str] = mapped_column(String(64))
    source_party: Mapped[str] = mapped_column(String(64))
    source_domain: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sealed_fields: Mapped[bytes] = mapped_column(LargeBinary)

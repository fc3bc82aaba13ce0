"""Participants and their per-domain pseudonyms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dbtypes import UTCDateTime
from gateway.core.db import Base


class Participant(Base):
    """A person taking part; the BSN is stored only encrypted and found through a keyed index."""

    __tablename__ = "participants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bsn_index: Mapped[str] = mapped_column(String(64), unique=True)
    bsn_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DomainPseudonym(Base):
    """``HMAC-SHA256(domain_key, participant_id)``, kept to resolve a partner's pseudonym."""

    __tablename__ = "domain_pseudonyms"

    domain: Mapped[str] = mapped_column(String(32), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    participant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("participants.id"), index=True
    )

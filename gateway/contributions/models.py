"""Idempotency records: a retried ingest with the same key gets the first answer back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dbtypes import UTCDateTime
from gateway.core.db import Base


class IdempotencyRecord(Base):
    """One ``Idempotency-Key`` of one party: the request's digest and the response it got."""

    __tablename__ = "idempotency_records"

    party: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

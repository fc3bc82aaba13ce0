"""Tables of the gateway's core: the scratch row readiness writes to prove a write can commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer
from sqlalchemy.orm import Mapped, mapped_column

from gateway.core.db import Base


class ReadinessProbe(Base):
    """One row, rewritten by each readiness probe; nothing else reads it."""

    __tablename__ = "readiness_probes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    probed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

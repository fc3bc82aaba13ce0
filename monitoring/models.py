"""Monitoring tables: the stored releases, each region's privacy budget per year and the ledger
of what each release spent, and the participants' objections. Only ever added to, except the
running total of a budget, which the ledger accounts for entry by entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dbtypes import UTCDateTime, named_metadata


class MonitoringBase(DeclarativeBase):
    """Tables owned by the monitoring package."""

    metadata = named_metadata()


class Release(MonitoringBase):
    """A published release: the signed document as it was published, and its sealed noise draw.

    ``document`` is the RFC 8785 form of what was signed; what is served is these bytes, never a
    re-run. The draw (the noise OpenDP added to each count) is sealed under the key-encryption
    key: with the same facts it reproduces the release, and it never leaves the gateway.
    """

    __tablename__ = "monitoring_releases"
    __table_args__ = (Index("ix_monitoring_releases_region_created_at", "region", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    region: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    epsilon: Mapped[float] = mapped_column(Float)
    document: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    sealed_draw: Mapped[bytes] = mapped_column(LargeBinary)
    draw_kek_id: Mapped[str] = mapped_column(String(16))
    facts_digest: Mapped[str] = mapped_column(String(64))


class Budget(MonitoringBase):
    """What a region spent of its privacy budget in one calendar year (locked while spending)."""

    __tablename__ = "monitoring_budgets"

    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    spent: Mapped[float] = mapped_column(Float)


class LedgerEntry(MonitoringBase):
    """One release's spending from its region's budget for the year."""

    __tablename__ = "monitoring_ledger"
    __table_args__ = (Index("ix_monitoring_ledger_region_year", "region", "year"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    release_id: Mapped[str] = mapped_column(String(36))
    party: Mapped[str] = mapped_column(String(64))
    epsilon: Mapped[float] = mapped_column(Float)
    spent_after: Mapped[float] = mapped_column(Float)
    total: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Objection(MonitoringBase):
    """A participant objected to being counted (GDPR Art. 21), or lifted an objection; the
    newest row counts."""

    __tablename__ = "monitoring_objections"
    __table_args__ = (Index("ix_monitoring_objections_participant_id", "participant_id", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(16))  # objected | lifted
    at: Mapped[datetime] = mapped_column(UTCDateTime())

"""Plan tables: versioned goals and actions, director assignments, signals and their delivery.

Goals, actions, director assignments and notifications are only ever added; a signal is ended
by stamping its end (it stays as history, and a new one may follow). The webhook
outbox is the one table whose rows change state (pending, delivered, dead); each attempt on it is
kept as a row of its own.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dbtypes import UTCDateTime, named_metadata


class PlanBase(DeclarativeBase):
    """Tables owned by the plan package."""

    metadata = named_metadata()


class PlanItem(PlanBase):
    """One version of a goal or an action; an edit is a new row that supersedes the last one."""

    __tablename__ = "plan_items"
    __table_args__ = (UniqueConstraint("item_id", "version", name="uq_plan_items_item_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(36), index=True)
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # goal | action
    version: Mapped[int] = mapped_column(Integer)
    supersedes: Mapped[str | None] = mapped_column(ForeignKey("plan_items.id"))
    owner_party: Mapped[str] = mapped_column(String(64))
    owner_domain: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date | None] = mapped_column(Date)
    goal_id: Mapped[str | None] = mapped_column(String(36))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DirectorAssignment(PlanBase):
    """Append-only: who directs the participant's plan from ``at`` on (assigned, handed over, ended)."""

    __tablename__ = "director_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # assigned | handed-over | ended
    party: Mapped[str | None] = mapped_column(String(64))
    domain: Mapped[str | None] = mapped_column(String(32))
    previous_party: Mapped[str | None] = mapped_column(String(64))
    basis: Mapped[str] = mapped_column(String(16))  # participant | consent
    consent_id: Mapped[str | None] = mapped_column(String(36))
    assigned_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvolvementSignal(PlanBase):
    """'Party X is involved with this participant for purpose P; contact C' (a reference index)."""

    __tablename__ = "involvement_signals"
    __table_args__ = (
        # One signal in force per party and purpose; an ended one stays as history beside a new one.
        Index(
            "uq_involvement_signals_once", "participant_id", "party", "purpose", unique=True,
            sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL"),
        ),
    )  # fmt: skip

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    party: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(64))
    contact: Mapped[str] = mapped_column(String(200))
    signalled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignalNotification(PlanBase):
    """One party told of another party's signal, or of its end (``kind``); its id is the cursor
    of the pollable feed."""

    __tablename__ = "signal_notifications"
    __table_args__ = (
        UniqueConstraint(
            "recipient_party", "about_signal_id", "kind", name="uq_signal_notifications_once"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient_party: Mapped[str] = mapped_column(String(64), index=True)
    participant_id: Mapped[str] = mapped_column(String(36))
    about_signal_id: Mapped[str] = mapped_column(ForeignKey("involvement_signals.id"))
    kind: Mapped[str] = mapped_column(String(16), server_default="signalled")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEndpoint(PlanBase):
    """A party's webhook receiver; the signing secret is stored sealed by the caller's key."""

    __tablename__ = "webhook_endpoints"

    party: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookMessage(PlanBase):
    """The outbox: written in the transaction that caused it, delivered later by a worker."""

    __tablename__ = "webhook_messages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the webhook-id header
    party: Mapped[str] = mapped_column(String(64), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookAttempt(PlanBase):
    """Append-only record of each delivery attempt, for operators and the retry timeline."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("webhook_messages.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))

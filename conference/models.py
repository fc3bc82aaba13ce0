"""Conference tables: conferences, their invitations and cases, answers and outcomes.

Everything is only ever added: an answer or an outcome given again is a new version of it, the
newest one counts, and the history stays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dbtypes import UTCDateTime, named_metadata


class ConferenceBase(DeclarativeBase):
    """Tables owned by the conference package."""

    metadata = named_metadata()


class Conference(ConferenceBase):
    """A conference a chair scheduled: its window, region and the categories consent is asked for."""

    __tablename__ = "conferences"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(64))
    chair_party: Mapped[str] = mapped_column(String(64), index=True)
    chair_domain: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    categories: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Invitation(ConferenceBase):
    """A party invited to a conference (the chair takes part without one)."""

    __tablename__ = "conference_invitations"

    conference_id: Mapped[str] = mapped_column(ForeignKey("conferences.id"), primary_key=True)
    party: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    domain: Mapped[str] = mapped_column(String(32))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Case(ConferenceBase):
    """A participant on a conference's agenda, known to the parties by its number until consent."""

    __tablename__ = "conference_cases"
    __table_args__ = (
        UniqueConstraint("conference_id", "participant_id", name="uq_conference_cases_once"),
        UniqueConstraint("conference_id", "number", name="uq_conference_cases_number"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conference_id: Mapped[str] = mapped_column(ForeignKey("conferences.id"), index=True)
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    number: Mapped[int] = mapped_column(Integer)  # "case 2" on the agenda
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Answer(ConferenceBase):
    """One answer to the consent asked for a case: yes (naming parties and categories) or no."""

    __tablename__ = "conference_answers"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_conference_answers_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("conference_cases.id"), index=True)
    conference_id: Mapped[str] = mapped_column(String(36))
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str] = mapped_column(String(8))  # yes | no
    parties: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON)
    given_by: Mapped[str] = mapped_column(String(16))  # participant | professional | representative
    representative_role: Mapped[str | None] = mapped_column(String(16))
    evidence_ref: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(64))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Outcome(ConferenceBase):
    """One version of a case's outcome: the advice, the coded obstacles, the plan items made."""

    __tablename__ = "conference_outcomes"
    __table_args__ = (
        UniqueConstraint("case_id", "version", name="uq_conference_outcomes_version"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("conference_cases.id"), index=True)
    conference_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    advice: Mapped[str] = mapped_column(String(4000))
    obstacles: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    plan_items: Mapped[list[str]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

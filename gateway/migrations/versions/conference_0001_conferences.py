"""Case conferences: conferences, invitations, the agenda's cases, answers and outcomes.

Revision ID: conference_0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "conference_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("conference",)
depends_on: str | Sequence[str] | None = None


def _at(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _text(name: str, length: int, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _case_reference(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["case_id"], ["conference_cases.id"], name=f"fk_{table}_case_id_conference_cases"
    )


def upgrade() -> None:
    op.create_table(
        "conferences",
        _text("id", 36),
        _text("purpose", 64),
        _text("title", 200),
        _text("region", 64),
        _text("chair_party", 64),
        _text("chair_domain", 32),
        _at("starts_at"),
        _at("ends_at"),
        sa.Column("categories", sa.JSON(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_conferences"),
    )
    op.create_index("ix_conferences_chair_party", "conferences", ["chair_party"])
    op.create_table(
        "conference_invitations",
        _text("conference_id", 36),
        _text("party", 64),
        _text("domain", 32),
        _at("invited_at"),
        sa.ForeignKeyConstraint(
            ["conference_id"],
            ["conferences.id"],
            name="fk_conference_invitations_conference_id_conferences",
        ),
        sa.PrimaryKeyConstraint("conference_id", "party", name="pk_conference_invitations"),
    )
    op.create_index("ix_conference_invitations_party", "conference_invitations", ["party"])
    op.create_table(
        "conference_cases",
        _text("id", 36),
        _text("conference_id", 36),
        _text("participant_id", 36),
        sa.Column("number", sa.Integer(), nullable=False),
        _text("added_by", 64),
        _at("added_at"),
        sa.ForeignKeyConstraint(
            ["conference_id"],
            ["conferences.id"],
            name="fk_conference_cases_conference_id_conferences",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_conference_cases"),
        sa.UniqueConstraint("conference_id", "participant_id", name="uq_conference_cases_once"),
        sa.UniqueConstraint("conference_id", "number", name="uq_conference_cases_number"),
    )
    op.create_index("ix_conference_cases_conference_id", "conference_cases", ["conference_id"])
    op.create_index("ix_conference_cases_participant_id", "conference_cases", ["participant_id"])
    op.create_table(
        "conference_answers",
        _text("id", 36),
        _text("case_id", 36),
        _text("conference_id", 36),
        _text("participant_id", 36),
        sa.Column("version", sa.Integer(), nullable=False),
        _text("answer", 8),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        _text("given_by", 16),
        _text("representative_role", 16, nullable=True),
        _text("evidence_ref", 500, nullable=True),
        _text("recorded_by", 64),
        _at("answered_at"),
        _case_reference("conference_answers"),
        sa.PrimaryKeyConstraint("id", name="pk_conference_answers"),
        sa.UniqueConstraint("case_id", "version", name="uq_conference_answers_version"),
    )
    op.create_index("ix_conference_answers_case_id", "conference_answers", ["case_id"])
    op.create_index(
        "ix_conference_answers_participant_id", "conference_answers", ["participant_id"]
    )
    op.create_table(
        "conference_outcomes",
        _text("id", 36),
        _text("case_id", 36),
        _text("conference_id", 36),
        sa.Column("version", sa.Integer(), nullable=False),
        _text("advice", 4000),
        sa.Column("obstacles", sa.JSON(), nullable=False),
        sa.Column("plan_items", sa.JSON(), nullable=False),
        _text("recorded_by", 64),
        _at("recorded_at"),
        _case_reference("conference_outcomes"),
        sa.PrimaryKeyConstraint("id", name="pk_conference_outcomes"),
        sa.UniqueConstraint("case_id", "version", name="uq_conference_outcomes_version"),
    )
    op.create_index("ix_conference_outcomes_case_id", "conference_outcomes", ["case_id"])
    op.create_index(
        "ix_conference_outcomes_conference_id", "conference_outcomes", ["conference_id"]
    )


def downgrade() -> None:
    for table in (
        "conference_outcomes",
        "conference_answers",
        "conference_cases",
        "conference_invitations",
        "conferences",
    ):
        op.drop_table(table)

"""Consent registry: immutable consent versions and their append-only events.

Revision ID: consent_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consent_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("consent",)
depends_on: str | Sequence[str] | None = None

CLOSING = "kind IN ('revoked', 'superseded')"


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("grantee", sa.String(64), nullable=False),
        sa.Column("grantee_kind", sa.String(8), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("given_by", sa.String(16), nullable=False),
        sa.Column("representative_role", sa.String(16), nullable=True),
        sa.Column("evidence_ref", sa.String(500), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["consents.id"], name="fk_consents_supersedes_consents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
    )
    op.create_index("ix_consents_participant_id", "consents", ["participant_id"])
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("consent_id", sa.String(36), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("related_consent_id", sa.String(36), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name="fk_consent_events_consent_id_consents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consent_events"),
    )
    op.create_index("ix_consent_events_consent_id", "consent_events", ["consent_id"])
    op.create_index("ix_consent_events_participant_id", "consent_events", ["participant_id"])
    # At most one closing event per consent: of two concurrent revocations, one fails.
    op.create_index(
        "uq_consent_events_one_closing",
        "consent_events",
        ["consent_id"],
        unique=True,
        sqlite_where=sa.text(CLOSING),
        postgresql_where=sa.text(CLOSING),
    )


def downgrade() -> None:
    op.drop_table("consent_events")
    op.drop_table("consents")

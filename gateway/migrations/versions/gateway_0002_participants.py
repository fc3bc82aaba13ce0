"""Participants (BSN encrypted, blind index) and per-domain pseudonyms.

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0002"
down_revision: str | None = "gateway_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "participants",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("bsn_index", sa.String(64), nullable=False),
        sa.Column("bsn_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_participants"),
        sa.UniqueConstraint("bsn_index", name="uq_participants_bsn_index"),
    )
    op.create_table(
        "domain_pseudonyms",
        sa.Column("domain", sa.String(32), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_domain_pseudonyms_participant_id_participants",
        ),
        sa.PrimaryKeyConstraint("domain", "pseudonym", name="pk_domain_pseudonyms"),
    )
    op.create_index("ix_domain_pseudonyms_participant_id", "domain_pseudonyms", ["participant_id"])


def downgrade() -> None:
    op.drop_table("domain_pseudonyms")
    op.drop_table("participants")

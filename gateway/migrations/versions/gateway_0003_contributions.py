"""Contributions sealed per participant, and the wrapped data keys.

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0003"
down_revision: str | None = "gateway_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "participant_data_keys",
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("kek_id", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_participant_data_keys_participant_id_participants",
        ),
        sa.PrimaryKeyConstraint("participant_id", name="pk_participant_data_keys"),
    )
    op.create_table(
        "contributions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("source_party", sa.String(64), nullable=False),
        sa.Column("source_domain", sa.String(32), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_fields", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_contributions_participant_id_participants",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contributions"),
    )
    op.create_index(
        "ix_contributions_participant_category", "contributions", ["participant_id", "category"]
    )


def downgrade() -> None:
    op.drop_table("contributions")
    op.drop_table("participant_data_keys")

"""Deletion notices and the consent-expiry watermark (a branch of their own: the notice package).

Revision ID: notice_0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notice_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("notice",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deletion_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.String(36), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("recipient_party", sa.String(64), nullable=False),
        sa.Column("recipient_domain", sa.String(32), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("consent_id", sa.String(36), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("disclosures", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ground", sa.String(64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_by", sa.String(36), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deletion_notices"),
        sa.UniqueConstraint("notice_id", name="uq_deletion_notices_notice_id"),
        sa.UniqueConstraint("dedupe_key", name="uq_deletion_notices_dedupe_key"),
    )
    op.create_index(
        "ix_deletion_notices_recipient_party_id", "deletion_notices", ["recipient_party", "id"]
    )
    op.create_index("ix_deletion_notices_participant_id", "deletion_notices", ["participant_id"])
    op.create_index("ix_deletion_notices_status_due_at", "deletion_notices", ["status", "due_at"])
    op.create_table(
        "notice_expiry_watermarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("swept_through", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notice_expiry_watermarks"),
    )


def downgrade() -> None:
    op.drop_table("notice_expiry_watermarks")
    op.drop_index("ix_deletion_notices_status_due_at", table_name="deletion_notices")
    op.drop_index("ix_deletion_notices_participant_id", table_name="deletion_notices")
    op.drop_index("ix_deletion_notices_recipient_party_id", table_name="deletion_notices")
    op.drop_table("deletion_notices")

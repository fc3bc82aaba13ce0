"""Server-side records of signed-in web sessions, so logout, time-outs and a withdrawn role end them;
an index of contributions by source party, for an officer's scope.

Revision ID: gateway_0006
Revises: gateway_0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0006"
down_revision: str | None = "gateway_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_subject", "web_sessions", ["subject"])
    op.create_index(
        "ix_contributions_source_party_participant",
        "contributions",
        ["source_party", "participant_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_contributions_source_party_participant", table_name="contributions")
    op.drop_table("web_sessions")

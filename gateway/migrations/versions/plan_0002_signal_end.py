"""Involvement signals can end: the signal's end, and notifications of it beside those of its start.

Revision ID: plan_0002
Revises: plan_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "plan_0002"
down_revision: str | None = "plan_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("involvement_signals") as batch:
        batch.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint("uq_involvement_signals_once", type_="unique")
    op.create_index(
        "uq_involvement_signals_once",
        "involvement_signals",
        ["participant_id", "party", "purpose"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    with op.batch_alter_table("signal_notifications") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="signalled")
        )
        batch.drop_constraint("uq_signal_notifications_once", type_="unique")
        batch.create_unique_constraint(
            "uq_signal_notifications_once", ["recipient_party", "about_signal_id", "kind"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM signal_notifications WHERE kind <> 'signalled'")
    with op.batch_alter_table("signal_notifications") as batch:
        batch.drop_constraint("uq_signal_notifications_once", type_="unique")
        batch.create_unique_constraint(
            "uq_signal_notifications_once", ["recipient_party", "about_signal_id"]
        )
        batch.drop_column("kind")
    op.execute("DELETE FROM involvement_signals WHERE ended_at IS NOT NULL")
    op.drop_index("uq_involvement_signals_once", table_name="involvement_signals")
    with op.batch_alter_table("involvement_signals") as batch:
        batch.drop_column("ended_at")
        batch.create_unique_constraint(
            "uq_involvement_signals_once", ["participant_id", "party", "purpose"]
        )

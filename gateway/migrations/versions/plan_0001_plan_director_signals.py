"""Plan: versioned goals and actions, director assignments, involvement signals and webhooks.

Revision ID: plan_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "plan_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("plan",)
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "plan_items",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes", sa.String(36), nullable=True),
        sa.Column("owner_party", sa.String(64), nullable=False),
        sa.Column("owner_domain", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("goal_id", sa.String(36), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        _at("recorded_at"),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["plan_items.id"], name="fk_plan_items_supersedes_plan_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_plan_items"),
        sa.UniqueConstraint("item_id", "version", name="uq_plan_items_item_version"),
    )
    op.create_index("ix_plan_items_item_id", "plan_items", ["item_id"])
    op.create_index("ix_plan_items_participant_id", "plan_items", ["participant_id"])
    op.create_table(
        "director_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("party", sa.String(64), nullable=True),
        sa.Column("domain", sa.String(32), nullable=True),
        sa.Column("previous_party", sa.String(64), nullable=True),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("consent_id", sa.String(36), nullable=True),
        sa.Column("assigned_by", sa.String(64), nullable=False),
        _at("at"),
        sa.PrimaryKeyConstraint("id", name="pk_director_assignments"),
    )
    op.create_index(
        "ix_director_assignments_participant_id", "director_assignments", ["participant_id"]
    )
    op.create_table(
        "involvement_signals",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("contact", sa.String(200), nullable=False),
        _at("signalled_at"),
        sa.PrimaryKeyConstraint("id", name="pk_involvement_signals"),
        sa.UniqueConstraint(
            "participant_id", "party", "purpose", name="uq_involvement_signals_once"
        ),
    )
    op.create_index(
        "ix_involvement_signals_participant_id", "involvement_signals", ["participant_id"]
    )
    op.create_table(
        "signal_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient_party", sa.String(64), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("about_signal_id", sa.String(36), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["about_signal_id"],
            ["involvement_signals.id"],
            name="fk_signal_notifications_about_signal_id_involvement_signals",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_signal_notifications"),
        sa.UniqueConstraint(
            "recipient_party", "about_signal_id", name="uq_signal_notifications_once"
        ),
    )
    op.create_index(
        "ix_signal_notifications_recipient_party", "signal_notifications", ["recipient_party"]
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("party", name="pk_webhook_endpoints"),
    )
    op.create_table(
        "webhook_messages",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        sa.Column("last_error", sa.String(500), nullable=True),
        _at("created_at"),
        _at("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_messages"),
    )
    op.create_index("ix_webhook_messages_party", "webhook_messages", ["party"])
    op.create_index("ix_webhook_messages_status", "webhook_messages", ["status"])
    op.create_index("ix_webhook_messages_next_attempt_at", "webhook_messages", ["next_attempt_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(40), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _at("at"),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["webhook_messages.id"],
            name="fk_webhook_attempts_message_id_webhook_messages",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
    )
    op.create_index("ix_webhook_attempts_message_id", "webhook_attempts", ["message_id"])


def downgrade() -> None:
    for table in (
        "webhook_attempts",
        "webhook_messages",
        "webhook_endpoints",
        "signal_notifications",
        "involvement_signals",
        "director_assignments",
        "plan_items",
    ):
        op.drop_table(table)

"""Regional monitoring: stored releases, the privacy budget per region per year and its ledger,
and the participants' objections (a branch of its own: the monitoring package).

Revision ID: monitoring_0001
Revises:
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "monitoring_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("monitoring",)
depends_on: str | Sequence[str] | None = None


def _at(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "monitoring_releases",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        _at("created_at"),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("sealed_draw", sa.LargeBinary(), nullable=False),
        sa.Column("draw_kek_id", sa.String(16), nullable=False),
        sa.Column("facts_digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_releases"),
    )
    op.create_index(
        "ix_monitoring_releases_region_created_at",
        "monitoring_releases",
        ["region", "created_at"],
    )
    op.create_table(
        "monitoring_budgets",
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("spent", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("region", "year", name="pk_monitoring_budgets"),
    )
    op.create_table(
        "monitoring_ledger",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.String(36), nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("spent_after", sa.Float(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        _at("at"),
        sa.PrimaryKeyConstraint("seq", name="pk_monitoring_ledger"),
    )
    op.create_index("ix_monitoring_ledger_region_year", "monitoring_ledger", ["region", "year"])
    op.create_table(
        "monitoring_objections",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _at("at"),
        sa.PrimaryKeyConstraint("seq", name="pk_monitoring_objections"),
    )
    op.create_index(
        "ix_monitoring_objections_participant_id",
        "monitoring_objections",
        ["participant_id", "seq"],
    )


def downgrade() -> None:
    op.drop_index("ix_monitoring_objections_participant_id", table_name="monitoring_objections")
    op.drop_table("monitoring_objections")
    op.drop_index("ix_monitoring_ledger_region_year", table_name="monitoring_ledger")
    op.drop_table("monitoring_ledger")
    op.drop_table("monitoring_budgets")
    op.drop_index("ix_monitoring_releases_region_created_at", table_name="monitoring_releases")
    op.drop_table("monitoring_releases")

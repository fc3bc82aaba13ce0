"""The readiness probe's scratch row: a write that must commit for the gateway to be ready.

Revision ID: gateway_0005
Revises: gateway_0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0005"
down_revision: str | None = "gateway_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "readiness_probes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("probed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_readiness_probes"),
    )
    op.bulk_insert(table, [{"id": 1, "probed_at": datetime(2026, 12, 6, tzinfo=UTC)}])


def downgrade() -> None:
    op.drop_table("readiness_probes")

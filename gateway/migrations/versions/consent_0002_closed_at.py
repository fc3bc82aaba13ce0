"""Consent registry: each version records when it was closed, and an index finds the open ones.

Whether a version was in force had been read from its events: the case read excluded closed
versions with ``NOT IN (SELECT … FROM consent_events …)``, which SQLite runs once per version of
the participant, so a disclosure grew with the square of a participant's amendments. The
closing event (superseded, revoked) now also sets ``consents.closed_at`` in its transaction, and
``(participant_id, closed_at)`` answers "the participant's open versions" from the index; it
replaces the index on ``participant_id`` alone, whose every use its first column serves.
Versions closed before this revision get the time of their closing event here; the events stay
as they are, the record the column is derived from.

Revision ID: consent_0002
Revises: consent_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consent_0002"
down_revision: str | None = "consent_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as consent_0001 made them (frozen here: later models may differ).
_CONSENTS = sa.table("consents", sa.column("id", sa.String()), sa.column("closed_at"))
_EVENTS = sa.table(
    "consent_events",
    sa.column("consent_id", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("at"),
)
_CLOSING = _EVENTS.c.kind.in_(("revoked", "superseded"))


def upgrade() -> None:
    op.add_column("consents", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    # At most one closing event per version (uq_consent_events_one_closing): one value each.
    closed_at = (
        sa.select(_EVENTS.c.at)
        .where(_EVENTS.c.consent_id == _CONSENTS.c.id, _CLOSING)
        .scalar_subquery()
    )
    op.execute(
        _CONSENTS.update()
        .where(_CONSENTS.c.id.in_(sa.select(_EVENTS.c.consent_id).where(_CLOSING)))
        .values(closed_at=closed_at)
    )
    op.create_index(
        "ix_consents_participant_id_closed_at", "consents", ["participant_id", "closed_at"]
    )
    op.drop_index("ix_consents_participant_id", table_name="consents")


def downgrade() -> None:
    op.create_index("ix_consents_participant_id", "consents", ["participant_id"])
    op.drop_index("ix_consents_participant_id_closed_at", table_name="consents")
    op.drop_column("consents", "closed_at")

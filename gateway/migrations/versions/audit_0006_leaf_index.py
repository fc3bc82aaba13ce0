"""Audit log: index the entries' hashes by seq, the tree's leaves in order.

An inclusion proof reads a tile of 256 consecutive entries' hashes (audit/tree.py), and adding
the tree's kept nodes reads the entries' hashes in seq order. From the primary key each of those
reads fetches the entries' whole rows, scattered over tens of table pages; the index on
(seq, entry_hash) holds what they need, so PostgreSQL and SQLite answer them from the index alone.

Revision ID: audit_0006
Revises: audit_0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "audit_0006"
down_revision: str | None = "audit_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_entries_seq_entry_hash", "audit_entries", ["seq", "entry_hash"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_seq_entry_hash", table_name="audit_entries")

"""Audit log: index entries by (subject_ref, seq), the order a participant's history is read in.

A participant's page is ``subject_ref = ? AND seq > ? ORDER BY seq LIMIT ?``. With an index on
subject_ref alone, PostgreSQL's generic plan for that prepared statement (psycopg prepares it
after five runs) walks the primary key and filters, reading the whole log for a participant who
has fewer entries than the page holds. The composite index answers it in seq order directly and
serves every subject_ref look-up the old index did, so it replaces that one.

Revision ID: audit_0002
Revises: audit_0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "audit_0002"
down_revision: str | None = "audit_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_entries_subject_ref_seq", "audit_entries", ["subject_ref", "seq"])
    op.drop_index("ix_audit_entries_subject_ref", table_name="audit_entries")


def downgrade() -> None:
    op.create_index("ix_audit_entries_subject_ref", "audit_entries", ["subject_ref"])
    op.drop_index("ix_audit_entries_subject_ref_seq", table_name="audit_entries")

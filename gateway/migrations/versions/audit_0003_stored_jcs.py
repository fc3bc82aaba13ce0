"""Audit log: keep each entry's JCS bytes, the exact bytes its entry_hash was taken over.

Verifying the stored log then hashes those bytes as they are, and one SQL pass holds the columns
against them (audit/verify_database.py), instead of writing the JCS of every entry again in Python.
Entries written before this revision get their bytes from their columns here; an entry whose
columns were changed keeps failing verification, because those bytes do not hash to its
entry_hash. The append-only triggers are lifted for the fill and put back, unchanged. How long the
fill takes per million entries is in docs/performance.md.

Revision ID: audit_0003
Revises: audit_0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from audit.chain import canonical_json, format_timestamp
from dbtypes import UTCDateTime

revision: str = "audit_0003"
down_revision: str | None = "audit_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000

# The entry columns as audit_0001 made them (frozen here: later models may differ).
_TEXT_COLUMNS = (
    "trace_id", "actor_party", "actor_domain", "action", "subject_ref", "purpose",
    "decision_id", "policy_revision", "outcome", "reason", "payload_digest", "prev_hash",
)  # fmt: skip
_ENTRIES = sa.table(
    "audit_entries",
    sa.column("seq", sa.BigInteger()),
    sa.column("recorded_at", UTCDateTime()),
    *(sa.column(name, sa.String()) for name in _TEXT_COLUMNS),
    sa.column("categories", sa.JSON()),
    sa.column("consent_ids", sa.JSON()),
    sa.column("canonical", sa.Text()),
)


_FILL = (
    _ENTRIES.update()
    .where(_ENTRIES.c.seq == sa.bindparam("at"))
    .values(canonical=sa.bindparam("jcs"))
)


def upgrade() -> None:
    op.add_column(
        "audit_entries", sa.Column("canonical", sa.Text(), nullable=False, server_default="")
    )
    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(_ENTRIES)).scalar_one() == 0:
        return
    postgresql = bind.dialect.name == "postgresql"
    _lift_triggers(postgresql)
    after = 0
    while True:
        rows = bind.execute(
            sa.select(*(c for c in _ENTRIES.c if c.name != "canonical"))
            .where(_ENTRIES.c.seq > after)
            .order_by(_ENTRIES.c.seq)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            _FILL,
            [
                {"at": row.seq, "jcs": canonical_json(_hashed_members(row._mapping)).decode()}
                for row in rows
            ],
        )
        after = rows[-1].seq
    _restore_triggers(postgresql)


def _hashed_members(row: Any) -> dict[str, Any]:
    """The entry's members as docs/audit-format.md §1 has them, entry_hash left out."""
    return {
        **row,
        "recorded_at": format_timestamp(row["recorded_at"]),
        "categories": list(row["categories"]),
        "consent_ids": list(row["consent_ids"]),
    }


def _lift_triggers(postgresql: bool) -> None:
    if postgresql:
        op.execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
    else:
        op.execute("DROP TRIGGER audit_entries_no_update")


def _restore_triggers(postgresql: bool) -> None:
    if postgresql:
        op.execute("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only")
    else:  # as audit_0001 made it
        op.execute(
            "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on "
            "audit_entries refused'); END"
        )


def downgrade() -> None:
    op.drop_column("audit_entries", "canonical")

"""Audit log: the database refuses an entry that does not follow the head, and a checkpoint that
does not sign an entry as it stands.

The triggers of audit_0001 refuse UPDATE, DELETE and TRUNCATE, but an INSERT could still set its
own seq, prev_hash and recorded_at: a row after a gap, linked to another entry, or dated before
the head. Now an entry must be seq = head + 1 (1 on an empty log), carry the head's entry_hash
(the genesis value first) and not be dated before the head; a checkpoint must name an entry's
seq with that entry's entry_hash and recorded_at. Verification finds all of these anyway (the
guards can be dropped by whoever owns the tables); the guards keep a mistake or a careless
script from writing them, and /readyz reports when they are gone (audit/guards.py).

Revision ID: audit_0004
Revises: audit_0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "audit_0004"
down_revision: str | None = "audit_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The refusals say: "the audit log is append-only: an entry must follow the head (seq,
# prev_hash, recorded_at)" and "a checkpoint must sign an entry as it stands (seq, entry_hash,
# recorded_at)"; an empty log's first entry follows the genesis hash, 64 zeros.


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _postgresql() -> None:
    op.execute(
        """
        CREATE FUNCTION audit_entry_follows_head() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            head record;
        BEGIN
            SELECT seq, entry_hash, recorded_at INTO head
                FROM audit_entries ORDER BY seq DESC LIMIT 1;
            IF head.seq IS NULL THEN
                IF NEW.seq <> 1 OR NEW.prev_hash <> '0000000000000000000000000000000000000000000000000000000000000000' THEN
                    RAISE EXCEPTION 'the audit log is append-only: an entry must follow the head (seq, prev_hash, recorded_at): seq % refused on an empty log', NEW.seq
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
            ELSIF NEW.seq <> head.seq + 1 OR NEW.prev_hash <> head.entry_hash
                    OR NEW.recorded_at < head.recorded_at THEN
                RAISE EXCEPTION 'the audit log is append-only: an entry must follow the head (seq, prev_hash, recorded_at): seq % refused after seq %', NEW.seq, head.seq
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_entries_follow_head BEFORE INSERT ON audit_entries "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_follows_head()"
    )
    op.execute(
        """
        CREATE FUNCTION audit_checkpoint_signs_entry() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM audit_entries WHERE seq = NEW.seq
                    AND entry_hash = NEW.entry_hash AND recorded_at = NEW.recorded_at) THEN
                RAISE EXCEPTION 'a checkpoint must sign an entry as it stands (seq, entry_hash, recorded_at): seq % refused', NEW.seq
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_checkpoints_sign_entry BEFORE INSERT ON audit_checkpoints "
        "FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_signs_entry()"
    )


def _sqlite() -> None:
    # The head is the row with the highest seq; an empty log takes seq 1 after the genesis hash.
    op.execute(
        """
        CREATE TRIGGER audit_entries_follow_head BEFORE INSERT ON audit_entries
        WHEN (NOT EXISTS (SELECT 1 FROM audit_entries)
              AND (NEW.seq IS NOT 1 OR NEW.prev_hash IS NOT '0000000000000000000000000000000000000000000000000000000000000000'))
          OR EXISTS (
              SELECT 1 FROM (SELECT seq, entry_hash, recorded_at FROM audit_entries
                             ORDER BY seq DESC LIMIT 1) AS head
              WHERE NEW.seq IS NOT head.seq + 1 OR NEW.prev_hash IS NOT head.entry_hash
                 OR NEW.recorded_at < head.recorded_at)
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: an entry must follow the head (seq, prev_hash, recorded_at)'); END
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_checkpoints_sign_entry BEFORE INSERT ON audit_checkpoints
        WHEN NOT EXISTS (SELECT 1 FROM audit_entries WHERE seq = NEW.seq
                         AND entry_hash = NEW.entry_hash AND recorded_at = NEW.recorded_at)
        BEGIN SELECT RAISE(ABORT, 'a checkpoint must sign an entry as it stands (seq, entry_hash, recorded_at)'); END
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_checkpoints_sign_entry" + _on("audit_checkpoints"))
    op.execute("DROP TRIGGER audit_entries_follow_head" + _on("audit_entries"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_checkpoint_signs_entry()")
        op.execute("DROP FUNCTION audit_entry_follows_head()")


def _on(table: str) -> str:
    return f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""

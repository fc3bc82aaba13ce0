"""Audit log, format version 2: the acting professional, a Merkle tree over the entries, tree
checkpoints and witnesses' cosignatures.

- ``audit_entries.actor_user``: the partner's own user id of the acting professional (NEN 7513),
  a member of version 2 entries; ``audit_entries.version`` says which members an entry has
  (every entry before this revision is version 1 and stays as it was written).
- ``audit_tree_nodes``: perfect subtrees of the RFC 9162 tree at levels 8, 16, 24… (audit/tree.py),
  filled here for the entries already in the log.
- ``audit_checkpoints.root_hash`` and ``.note``: a version 2 checkpoint is a C2SP tlog-checkpoint
  note; version 1 checkpoints keep their signature over (seq, entry_hash, recorded_at).
- ``audit_cosignatures``: what witnesses returned (C2SP tlog-cosignature).

The new tables are append-only by triggers, as the log's are (audit/guards.py checks them).

Revision ID: audit_0005
Revises: audit_0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from audit.merkle import leaf_hash, node_hash

revision: str = "audit_0005"
down_revision: str | None = "audit_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRIDE = 8  # the levels kept: 8, 16, 24, … (as audit/tree.py at this revision)
BLOCK = 1 << STRIDE
NEW_TABLES = ("audit_tree_nodes", "audit_cosignatures")

_ENTRIES = sa.table("audit_entries", sa.column("seq", sa.BigInteger()), sa.column("entry_hash"))
_NODES = sa.table(
    "audit_tree_nodes",
    sa.column("level", sa.SmallInteger()),
    sa.column("idx", sa.BigInteger()),
    sa.column("hash", sa.LargeBinary()),
)


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("actor_user", sa.String(64), nullable=True))
    op.add_column(
        "audit_entries",
        sa.Column("version", sa.SmallInteger(), nullable=False, server_default="1"),
    )
    op.add_column("audit_checkpoints", sa.Column("root_hash", sa.String(64), nullable=True))
    op.add_column("audit_checkpoints", sa.Column("note", sa.Text(), nullable=True))
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_audit_tree_nodes"),
    )
    op.create_table(
        "audit_cosignatures",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(255), nullable=False),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", "witness", "key_id", name="pk_audit_cosignatures"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in NEW_TABLES:
        if postgresql:  # audit_refuse_change() is audit_0001's
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
            )
            continue
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {operation} on "
                f"{table} refused'); END"
            )
    _fill_tree()


def _fill_tree() -> None:
    """Every perfect subtree at levels 8, 16, … over the entries already in the log."""
    bind = op.get_bind()
    level, nodes = STRIDE, _level_8(bind)
    while nodes:
        bind.execute(
            sa.insert(_NODES),
            [{"level": level, "idx": index, "hash": node} for index, node in enumerate(nodes)],
        )
        nodes = [
            _perfect(nodes[start : start + BLOCK])
            for start in range(0, len(nodes) - BLOCK + 1, BLOCK)
        ]
        level += STRIDE


def _level_8(bind: sa.Connection) -> list[bytes]:
    """The root of every complete block of 256 entries, in seq order, read as a stream."""
    nodes: list[bytes] = []
    block: list[bytes] = []
    rows = bind.execute(
        sa.select(_ENTRIES.c.entry_hash)
        .order_by(_ENTRIES.c.seq)
        .execution_options(yield_per=10_000)
    )
    for (entry_hash,) in rows:
        block.append(leaf_hash(bytes.fromhex(entry_hash)))
        if len(block) == BLOCK:
            nodes.append(_perfect(block))
            block = []
    return nodes


def _perfect(hashes: list[bytes]) -> bytes:
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def downgrade() -> None:
    op.drop_table("audit_cosignatures")
    op.drop_table("audit_tree_nodes")
    op.drop_column("audit_checkpoints", "note")
    op.drop_column("audit_checkpoints", "root_hash")
    op.drop_column("audit_entries", "version")
    op.drop_column("audit_entries", "actor_user")

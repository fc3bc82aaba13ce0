"""Take the audit log's database guards away, as someone with the owner's rights could."""

from __future__ import annotations

from sqlalchemy import Engine, text

AUDIT_TABLES = ("audit_entries", "audit_checkpoints", "audit_tree_nodes", "audit_cosignatures")


def lift_guards(engine: Engine) -> None:
    """Drop (SQLite) or disable (PostgreSQL) every trigger on the audit log's tables."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in AUDIT_TABLES:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            return
        names = connection.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'audit_%'"
            )
        ).scalars()
        for name in list(names):
            connection.execute(text(f'DROP TRIGGER "{name}"'))

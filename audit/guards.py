"""The database's guards of the log, and whether they are in place (for readiness probes).

Triggers refuse UPDATE, DELETE and TRUNCATE of the log's tables (migrations audit_0001 and
audit_0005) and an INSERT that does not follow the head or does not sign an entry as it stands
(audit_0004).
Whoever owns the tables can drop or disable them; verification still finds what they would
have refused, but a gateway without them should not be taken for ready.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

TABLES = ("audit_entries", "audit_checkpoints", "audit_tree_nodes", "audit_cosignatures")
# (table, trigger) pairs per dialect, as the migrations create them.
GUARDS: dict[str, frozenset[tuple[str, str]]] = {
    "postgresql": frozenset(
        (table, f"{table}_{guard}") for table in TABLES for guard in ("append_only", "no_truncate")
    )
    | {
        ("audit_entries", "audit_entries_follow_head"),
        ("audit_checkpoints", "audit_checkpoints_sign_entry"),
    },
    "sqlite": frozenset(
        (table, f"{table}_{guard}") for table in TABLES for guard in ("no_update", "no_delete")
    )
    | {
        ("audit_entries", "audit_entries_follow_head"),
        ("audit_checkpoints", "audit_checkpoints_sign_entry"),
    },
}

# Enabled triggers: 'O' fires in normal sessions, 'A' always; 'D' is disabled, 'R' replica only.
_POSTGRESQL_IN_PLACE = text(
    "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE NOT t.tgisinternal AND t.tgenabled IN ('O', 'A') "
    "AND c.relname LIKE 'audit%'"
)
_SQLITE_IN_PLACE = text(
    "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' "
    "AND tbl_name LIKE 'audit%' AND sql LIKE '%RAISE(ABORT%'"
)


def missing_guards(connection: Connection) -> list[str]:
    """The names of the guards that are not in place (dropped, or disabled), sorted."""
    dialect = connection.dialect.name
    statement = _POSTGRESQL_IN_PLACE if dialect == "postgresql" else _SQLITE_IN_PLACE
    in_place = {(table, name) for table, name in connection.execute(statement)}
    return sorted(name for _, name in GUARDS.get(dialect, GUARDS["sqlite"]) - in_place)

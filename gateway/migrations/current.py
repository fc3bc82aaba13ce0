"""Whether the schema is current, answered without loading Alembic.

Alembic and its templates take a serving process's memory for nothing: a running gateway only asks
whether the database is at the newest revision of every branch. HEADS names those revisions
(a test holds it equal to what Alembic finds in ``versions/``).
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

HEADS = frozenset(
    {
        "gateway_0006",
        "consent_0002",
        "audit_0006",
        "plan_0002",
        "notice_0001",
        "conference_0001",
        "monitoring_0001",
    }
)


def schema_is_current(connection: Connection) -> bool:
    """True when the database records exactly the head revision of every branch."""
    try:
        with connection.begin_nested() if connection.in_transaction() else connection.begin():
            found = connection.execute(text("SELECT version_num FROM alembic_version"))
            return set(found.scalars()) == HEADS
    except DBAPIError:  # no alembic_version table: never migrated
        return False

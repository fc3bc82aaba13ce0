"""The database itself refuses to change or remove audit rows (triggers from audit_0001)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from audit.append import append_entry
from audit.checkpoint import create_checkpoint
from audit.keys import AuditSigningKey
from gateway.core.db import make_engine, make_sessionmaker, transaction
from gateway.migrations.runner import upgrade_to_head
from tests.audit.conftest import ORIGIN, draft
from tests.support import SettableClock

STATEMENTS = {
    "update": "UPDATE {table} SET entry_hash = entry_hash",
    "delete": "DELETE FROM {table}",
}


@pytest.fixture
def filled(sessions: sessionmaker[Session]) -> None:
    clock = SettableClock()
    with transaction(sessions) as session:
        append_entry(session=session, draft=draft(), clock=clock)
        create_checkpoint(
            session=session, signing_key=AuditSigningKey.generate(), clock=clock, origin=ORIGIN
        )


@pytest.mark.usefixtures("filled")
@pytest.mark.parametrize("table", ["audit_entries", "audit_checkpoints"])
@pytest.mark.parametrize("operation", sorted(STATEMENTS))
def test_update_and_delete_are_refused(audit_engine: Engine, table: str, operation: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), audit_engine.begin() as connection:
        connection.execute(text(STATEMENTS[operation].format(table=table)))
    with audit_engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1  # noqa: S608 - fixed names


@pytest.mark.parametrize("table", ["audit_entries", "audit_checkpoints"])
def test_truncate_is_refused_on_postgresql(postgres_url: str, table: str) -> None:
    engine = make_engine(postgres_url)
    upgrade_to_head(engine)
    with transaction(make_sessionmaker(engine)) as session:
        append_entry(session=session, draft=draft(), clock=SettableClock())
        create_checkpoint(
            session=session,
            signing_key=AuditSigningKey.generate(),
            clock=SettableClock(),
            origin=ORIGIN,
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {table} CASCADE"))
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1  # noqa: S608 - fixed names
    engine.dispose()

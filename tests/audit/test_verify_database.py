"""verify_database reads rows as plain tuples; its verdicts are those of the documents it reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from audit.checkpoint import checkpoint_document, create_checkpoint, iter_checkpoints
from audit.export import verify_database
from audit.keys import AuditSigningKey, publish_jwks
from audit.models import AuditEntry
from audit.service import append_entry, entry_document
from audit.verify import verify_log
from gateway.db import make_engine, make_sessionmaker, transaction
from gateway.migrations.runner import upgrade_to_head
from tests.audit.conftest import draft
from tests.support import SettableClock

KEY = AuditSigningKey.generate()
JWKS = publish_jwks(KEY)
# Reasons a fast path could get wrong: escapes, non-ASCII, astral characters, nothing at all.
REASONS = ['tab\t, newline\n, quote ", back\\slash, \u001f, \u007f', "é ✓ 𝄞 \u2028", None, ""]


@pytest.fixture
def stored(sessions: sessionmaker[Session]) -> None:
    _store(sessions)


def _store(sessions: sessionmaker[Session]) -> None:
    clock = SettableClock()
    with transaction(sessions) as session:
        for number, reason in enumerate(REASONS):
            clock.advance(1.000001)
            categories = ("work.capacity", "care.involvement")[: number % 3]
            change = {"reason": reason, "categories": categories, "subject_ref": None}
            append_entry(session=session, draft=draft(**change), clock=clock)
            create_checkpoint(session=session, signing_key=KEY, clock=clock)
        append_entry(session=session, draft=draft(consent_ids=()), clock=clock)


def _reference(session: Session) -> str:
    """The report of verify_log over the ORM's documents, as verify_database used to read them."""
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
    checkpoints = [checkpoint_document(c) for c in iter_checkpoints(session)]
    return verify_log([entry_document(e) for e in entries], checkpoints, JWKS).summary()


def _tamper(engine: Engine, statement: str) -> None:
    """Change the log behind the append-only triggers' back, as someone with the files could."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        else:
            for trigger in ("audit_entries_no_update", "audit_entries_no_delete"):
                connection.execute(text(f"DROP TRIGGER {trigger}"))
        connection.execute(text(statement))


@pytest.mark.usefixtures("stored")
def test_an_untouched_stored_log_verifies(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        report = verify_database(session=session, jwks=JWKS)
        assert report.ok, report.summary()
        assert (report.entries, report.verified_through) == (5, 4)
        assert report.summary() == _reference(session)


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE audit_entries SET subject_ref = 'ps-other' WHERE seq = 2", "entry_hash does not"),
        ("UPDATE audit_entries SET categories = '[\"x\"]' WHERE seq = 3", "entry_hash does not"),
        ("UPDATE audit_entries SET outcome = 'maybe' WHERE seq = 2", "outcome of the wrong form"),
        ("DELETE FROM audit_entries WHERE seq = 2", "found seq 3 where seq 2 belongs"),
    ],
)
def test_a_changed_row_is_found(
    audit_engine: Engine, sessions: sessionmaker[Session], statement: str, problem: str
) -> None:
    _tamper(audit_engine, statement)
    with transaction(sessions) as session:
        report = verify_database(session=session, jwks=JWKS)
        assert not report.ok
        assert problem in report.summary()
        assert report.summary() == _reference(session)


@pytest.mark.usefixtures("stored")
def test_json_written_another_way_still_verifies(
    audit_engine: Engine, sessions: sessionmaker[Session]
) -> None:
    _tamper(
        audit_engine, "UPDATE audit_entries SET consent_ids = '[ \"c\\u002d2\" ]' WHERE seq = 3"
    )
    with transaction(sessions) as session:
        report = verify_database(session=session, jwks=JWKS)
        assert report.ok, report.summary()
        assert report.summary() == _reference(session)


def test_a_timestamp_stored_another_way_is_read_as_the_orm_reads_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    _store(sessions)
    # The ORM reads this as the same moment; the plain reader hands it to the ORM.
    _tamper(engine, "UPDATE audit_entries SET recorded_at = recorded_at || '+00:00' WHERE seq = 3")
    with transaction(sessions) as session:
        report = verify_database(session=session, jwks=JWKS)
        assert report.ok, report.summary()
        assert report.summary() == _reference(session)
    engine.dispose()

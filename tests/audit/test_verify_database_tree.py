"""verify_database holds the Merkle tree over the stored entries against what was kept of it:
each kept node, and each version 2 checkpoint's root, on the quick reading and the careful one."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from audit.append import append_entry
from audit.checkpoint import checkpoint_document, create_checkpoint, iter_checkpoints
from audit.keys import AuditSigningKey, publish_jwks
from audit.models import AuditCheckpoint, AuditEntry, AuditTreeNode
from audit.note import sign_note
from audit.query import entry_document
from audit.tlog import Checkpoint
from audit.verify import VerifyReport, verify_log
from audit.verify_database import verify_database
from gateway.core.db import transaction
from tests.audit.conftest import ORIGIN, draft
from tests.audit.guards import lift_guards
from tests.support import SettableClock

KEY = AuditSigningKey.generate()
JWKS = publish_jwks(KEY)
SIZE = 600  # two whole blocks of 256 leaves: kept nodes at level 8, index 0 and 1


@pytest.fixture
def signed(sessions: sessionmaker[Session]) -> None:
    """SIZE entries and a version 2 checkpoint on the last, which keeps the tree's nodes."""
    clock = SettableClock()
    with transaction(sessions) as session:
        for _ in range(SIZE):
            append_entry(session=session, draft=draft(), clock=clock)
        create_checkpoint(session=session, signing_key=KEY, clock=clock, origin=ORIGIN)
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(AuditTreeNode)) == 2


def _both_readings(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> tuple[VerifyReport, VerifyReport]:
    """The report of the quick reading, then of the careful one alone."""
    with transaction(sessions) as session:
        quick = verify_database(session=session, jwks=JWKS)
    monkeypatch.setattr("audit.verify_database._quick_reading", lambda *_, **__: None)
    with transaction(sessions) as session:
        careful = verify_database(session=session, jwks=JWKS)
    return quick, careful


@pytest.mark.usefixtures("signed")
def test_a_kept_node_the_entries_do_not_give_is_reported_by_either_reading(
    audit_engine: Engine, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    lift_guards(audit_engine)
    with transaction(sessions) as session:
        session.execute(
            update(AuditTreeNode)
            .where(AuditTreeNode.level == 8, AuditTreeNode.idx == 1)
            .values(hash=bytes(32))
        )
    for report in _both_readings(sessions, monkeypatch):
        assert not report.ok
        assert report.first_bad_seq == 257
        assert "kept tree node at level 8, index 1" in report.summary()


@pytest.mark.usefixtures("signed")
def test_a_tree_checkpoint_whose_root_the_entries_do_not_give_is_reported_by_either_reading(
    audit_engine: Engine, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed with the log's own key, so only the tree over the entries can tell."""
    wrong = sign_note(Checkpoint(ORIGIN, SIZE, bytes(32)).text, ORIGIN, KEY.private_key)
    lift_guards(audit_engine)
    with transaction(sessions) as session:
        session.execute(
            update(AuditCheckpoint).where(AuditCheckpoint.seq == SIZE).values(note=str(wrong))
        )
    with transaction(sessions) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        checkpoints = [checkpoint_document(c) for c in iter_checkpoints(session)]
        expected = verify_log([entry_document(e) for e in entries], checkpoints, JWKS)
    assert not expected.ok and expected.first_bad_seq == SIZE
    for report in _both_readings(sessions, monkeypatch):
        assert report.summary() == expected.summary()


@pytest.mark.usefixtures("signed")
def test_the_untouched_tree_holds_on_either_reading(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    for report in _both_readings(sessions, monkeypatch):
        assert report.ok, report.summary()
        assert (report.entries, report.verified_through) == (SIZE, SIZE)


def test_a_kept_node_past_the_entries_verified_is_not_held_against_them(
    audit_engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """Only nodes the tree over entries 1..head completes are compared (none here)."""
    clock = SettableClock()
    with transaction(sessions) as session:
        for _ in range(10):
            append_entry(session=session, draft=draft(), clock=clock)
    lift_guards(audit_engine)
    with transaction(sessions) as session:
        session.add(AuditTreeNode(level=8, idx=5, hash=bytes(32)))
    with transaction(sessions) as session:
        assert verify_database(session=session, jwks=JWKS).ok

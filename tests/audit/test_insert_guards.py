"""The database refuses an entry that does not follow the head (migration audit_0004), and the
verification finds such an entry all the same when the guards are gone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from audit.append import append_entry
from audit.chain import format_timestamp, seal_with_jcs
from audit.checkpoint import create_checkpoint
from audit.keys import AuditSigningKey, publish_jwks
from audit.models import AuditCheckpoint, entries_table
from audit.verify_database import verify_database
from gateway.core.db import read_transaction, transaction
from tests.audit.conftest import ORIGIN, draft
from tests.audit.guards import lift_guards
from tests.support import SettableClock

KEY = AuditSigningKey.generate()
# What an INSERT of its own may get wrong: each makes entry 3 of a log of two.
WRONG = {
    "a gap in seq": {"seq": 4},
    "seq of the head again": {"seq": 2},
    "linked to another entry": {"prev_hash": "ab" * 32},
    "dated before the head": {"recorded_at": -timedelta(minutes=5)},
}


@pytest.fixture
def two_entries(sessions: sessionmaker[Session]) -> dict[str, Any]:
    clock = SettableClock()
    with transaction(sessions) as session:
        append_entry(session=session, draft=draft(), clock=clock)
        clock.advance(1)
        head = append_entry(session=session, draft=draft(), clock=clock)
    return {"seq": head.seq, "entry_hash": head.entry_hash, "recorded_at": head.recorded_at}


def _row(head: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """Entry 3 as a forger would seal it: consistent in itself, wrong against the head."""
    at = head["recorded_at"] + change.get("recorded_at", timedelta(seconds=1))
    fields = {
        **draft(reason="written by hand").model_dump(mode="json"),
        "seq": change.get("seq", head["seq"] + 1),
        "recorded_at": format_timestamp(at),
        "prev_hash": change.get("prev_hash", head["entry_hash"]),
    }
    document, jcs = seal_with_jcs(fields)
    return {**document, "recorded_at": at, "canonical": jcs.decode()}


@pytest.mark.parametrize("wrong", sorted(WRONG))
def test_an_insert_that_does_not_follow_the_head_is_refused(
    audit_engine: Engine, two_entries: dict[str, Any], wrong: str
) -> None:
    with pytest.raises(DBAPIError, match="must follow the head"), audit_engine.begin() as db:
        db.execute(insert(entries_table), _row(two_entries, WRONG[wrong]))


def test_an_insert_that_follows_the_head_is_taken(
    audit_engine: Engine, two_entries: dict[str, Any]
) -> None:
    with audit_engine.begin() as connection:
        connection.execute(insert(entries_table), _row(two_entries, {}))


def test_the_first_entry_must_follow_the_genesis_hash(audit_engine: Engine) -> None:
    genesis = {"seq": 0, "entry_hash": "0" * 64, "recorded_at": SettableClock()()}
    with pytest.raises(DBAPIError, match="must follow the head"), audit_engine.begin() as db:
        db.execute(insert(entries_table), _row(genesis, {"prev_hash": "ab" * 32}))
    with audit_engine.begin() as connection:
        connection.execute(insert(entries_table), _row(genesis, {}))


def test_a_checkpoint_must_sign_an_entry_as_it_stands(
    audit_engine: Engine, two_entries: dict[str, Any]
) -> None:
    forged = {
        **two_entries,
        "entry_hash": "cd" * 32,
        "signed_at": two_entries["recorded_at"],
        "kid": KEY.kid,
        "signature": "x",
    }
    with pytest.raises(DBAPIError, match="checkpoint must sign"), audit_engine.begin() as db:
        db.execute(insert(AuditCheckpoint), forged)


@pytest.mark.parametrize("wrong", sorted(set(WRONG) - {"seq of the head again"}))
def test_verification_finds_what_the_guards_refuse_when_they_are_gone(
    audit_engine: Engine, sessions: sessionmaker[Session], two_entries: dict[str, Any], wrong: str
) -> None:
    with transaction(sessions) as session:
        create_checkpoint(session=session, signing_key=KEY, clock=SettableClock(), origin=ORIGIN)
    lift_guards(audit_engine)
    row = _row(two_entries, WRONG[wrong])
    with audit_engine.begin() as connection:
        connection.execute(insert(entries_table), row)
    with read_transaction(sessions) as session:
        report = verify_database(session=session, jwks=publish_jwks(KEY))
    assert not report.ok
    assert report.first_bad_seq == 3, report.summary()

"""verify_database hashes the stored bytes quickly; its verdicts are those of the careful reading."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from audit.append import append_entry
from audit.chain import GENESIS_HASH, format_timestamp, seal
from audit.checkpoint import checkpoint_document, create_checkpoint, iter_checkpoints
from audit.export import write_export
from audit.keys import AuditSigningKey, publish_jwks
from audit.models import AuditEntry
from audit.query import entry_document
from audit.verify import Trusted, verify_log
from audit.verify_database import (
    MAX_SPELLED_OTHERWISE,
    _quick_reading,
    _spelled_otherwise,
    verify_database,
)
from audit.verify_export import verify_export
from audit.verify_postgresql import postgresql_range_check
from gateway.core.db import make_engine, make_sessionmaker, read_transaction, transaction
from gateway.migrations.runner import alembic_config, upgrade_to_head
from tests.audit.conftest import ORIGIN, draft
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
            create_checkpoint(session=session, signing_key=KEY, clock=clock, origin=ORIGIN)
        append_entry(session=session, draft=draft(consent_ids=()), clock=clock)


def _reference(session: Session) -> str:
    """The report of verify_log over the ORM's documents, as verify_database used to read them."""
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
    checkpoints = [checkpoint_document(c) for c in iter_checkpoints(session)]
    return verify_log([entry_document(e) for e in entries], checkpoints, JWKS).summary()


def _tamper(engine: Engine, statement: str, **values: str) -> None:
    """Change the log behind the append-only triggers' back, as someone with the files could."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        else:
            for trigger in ("audit_entries_no_update", "audit_entries_no_delete"):
                connection.execute(text(f"DROP TRIGGER {trigger}"))
        connection.execute(text(statement), values)


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
def test_a_json_column_holding_no_json_is_reported_not_raised(
    audit_engine: Engine, sessions: sessionmaker[Session]
) -> None:
    statement = "UPDATE audit_entries SET categories = 'work.capacity' WHERE seq = 3"
    if audit_engine.dialect.name == "postgresql":  # its json type refuses the text itself
        with pytest.raises(DBAPIError, match="json"):
            _tamper(audit_engine, statement)
        return
    _tamper(audit_engine, statement)
    with transaction(sessions) as session:
        report = verify_database(session=session, jwks=JWKS)
    assert not report.ok
    assert report.problem is not None
    assert "seq 3" in report.summary() and "categories" in report.problem


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


@pytest.mark.usefixtures("stored")
def test_an_untouched_log_is_read_the_quick_way(sessions: sessionmaker[Session]) -> None:
    """Unusual strings included, the stored bytes and the columns agree without the careful reading."""
    with transaction(sessions) as session:
        checkpoints = [checkpoint_document(c) for c in iter_checkpoints(session)]
        quick = _quick_reading(session, 5, checkpoints, JWKS, None, Trusted())
        assert quick is not None  # the tree pass then holds the tree checkpoints to their roots
        assert verify_database(session=session, jwks=JWKS).summary() == _reference(session)


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET canonical = replace(canonical, 'reintegration', 'x') WHERE seq = 2",
        "UPDATE audit_entries SET canonical = '' WHERE seq = 3",
        "UPDATE audit_entries SET canonical = canonical || ' ' WHERE seq = 5",
    ],
)
def test_stored_bytes_changed_behind_sound_columns_are_found(
    audit_engine: Engine, sessions: sessionmaker[Session], statement: str
) -> None:
    """The columns still hash right, so only the stored bytes can be at fault: named by seq."""
    _tamper(audit_engine, statement)
    with transaction(sessions) as session:
        report = verify_database(session=session, jwks=JWKS)
        assert not report.ok
        assert _reference(session).startswith("OK")
        seq = int(statement.rsplit("= ", 1)[1])
        assert report.summary() == (
            f"FAILED at seq {seq}: the stored JCS bytes are not those of the entry's columns"
        )


@pytest.mark.usefixtures("stored")
def test_a_chain_rewritten_in_the_stored_bytes_alone_is_found(
    audit_engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """New bytes for the unsigned last entry, with a matching entry_hash: the columns say otherwise."""
    with transaction(sessions) as session:
        last = session.get_one(AuditEntry, 5)
        previous = session.get_one(AuditEntry, 4)
    forged = last.canonical.replace('"outcome":"allow"', '"outcome":"deny"')
    digest = hashlib.sha256(bytes.fromhex(previous.entry_hash) + forged.encode()).hexdigest()
    _tamper(
        audit_engine,
        "UPDATE audit_entries SET canonical = :forged, entry_hash = :digest WHERE seq = 5",
        forged=forged,
        digest=digest,
    )
    with transaction(sessions) as session:
        report = verify_database(session=session, jwks=JWKS)
        assert not report.ok
        assert report.first_bad_seq == 5
        assert report.summary() == _reference(session)


def test_entries_written_before_the_bytes_were_stored_get_them(database_url: str) -> None:
    """audit_0003 fills the bytes of existing entries from their columns, triggers kept."""
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "audit_0002")
    clock = SettableClock()
    previous = GENESIS_HASH
    old_columns = [
        column
        for column in AuditEntry.__table__.c
        if column.name not in ("canonical", "version", "actor_user")
    ]
    with engine.begin() as connection:
        for seq, reason in enumerate(REASONS, start=1):
            clock.advance(1.5)
            fields = {
                **draft(reason=reason).model_dump(mode="json"),
                "seq": seq,
                "recorded_at": format_timestamp(clock()),
                "prev_hash": previous,
            }
            document = seal(fields, version=1)  # as the gateway wrote entries then
            previous = document["entry_hash"]
            row = {**document, "recorded_at": clock()}
            connection.execute(
                insert(AuditEntry.__table__).values({c.name: row[c.name] for c in old_columns})
            )
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        assert _quick_reading(session, len(REASONS), [], JWKS, None, Trusted()) is not None
        assert verify_database(session=session, jwks=JWKS).ok
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET canonical = '' WHERE seq = 1"))
    engine.dispose()


@pytest.mark.usefixtures("stored")
def test_the_database_writes_unusual_strings_as_jcs_does(
    audit_engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """Quotes, backslashes, control characters, non-ASCII: no row needs comparing in Python."""
    assert _not_called_equal(audit_engine, through=5) == []


@pytest.mark.usefixtures("stored")
def test_entries_the_verifying_transaction_wrote_itself_are_checked_too(
    sessions: sessionmaker[Session],
) -> None:
    """Other connections cannot see them: the careful reading, in the transaction, checks them."""
    with transaction(sessions) as session:
        append_entry(
            session=session, draft=draft(reason="own, not committed"), clock=SettableClock()
        )
        assert _quick_reading(session, 6, [], JWKS, None, Trusted()) is None
        report = verify_database(session=session, jwks=JWKS)
        assert report.ok, report.summary()
        assert report.entries == 6
        session.rollback()


@pytest.mark.usefixtures("stored")
def test_rows_spelled_otherwise_are_compared_one_by_one_up_to_a_limit(
    audit_engine: Engine, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    _tamper(
        audit_engine, "UPDATE audit_entries SET consent_ids = '[ \"c\\u002d2\" ]' WHERE seq = 3"
    )
    with transaction(sessions) as session:
        checkpoints = [checkpoint_document(c) for c in iter_checkpoints(session)]
        assert _quick_reading(session, 5, checkpoints, JWKS, None, Trusted()) is not None
        monkeypatch.setattr("audit.verify_database.MAX_SPELLED_OTHERWISE", 0)
        assert _quick_reading(session, 5, checkpoints, JWKS, None, Trusted()) is None
        assert verify_database(session=session, jwks=JWKS).ok


@pytest.mark.usefixtures("stored")
def test_entries_checked_range_by_range_chain_across_the_bounds(
    audit_engine: Engine, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ranges of two entries (1-2, 3-4, 5): the first of each range links to the one before."""
    monkeypatch.setattr("audit.verify_postgresql.PROGRESS_EVERY", 2)
    with transaction(sessions) as session:
        checkpoints = [checkpoint_document(c) for c in iter_checkpoints(session)]
        quick = _quick_reading(session, 5, checkpoints, JWKS, None, Trusted())
        assert quick is not None and quick[0].ok
    _tamper(audit_engine, "DELETE FROM audit_entries WHERE seq = 3")  # the first of a range
    with transaction(sessions) as session:
        checkpoints = [checkpoint_document(c) for c in iter_checkpoints(session)]
        assert _quick_reading(session, 5, checkpoints, JWKS, None, Trusted()) is None
        report = verify_database(session=session, jwks=JWKS)
        assert not report.ok
        assert report.summary() == _reference(session)


@pytest.mark.usefixtures("stored")
def test_entries_taken_from_the_end_are_found_in_the_database_and_in_its_export(
    audit_engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Checkpoints sign seq 1 to 4; with entries 4 and 5 gone, checkpoint 4 is past the end."""
    _tamper(audit_engine, "DELETE FROM audit_entries WHERE seq >= 4")
    exported = tmp_path / "log.jsonl"
    with transaction(sessions) as session:
        report = verify_database(session=session, jwks=JWKS)
        assert report.summary() == _reference(session)
        with exported.open("w") as out:
            write_export(session=session, out=out, clock=SettableClock(), origin=ORIGIN)
    problem = "a checkpoint signs seq 4 but the log ends at seq 3"
    assert not report.ok and problem in report.summary()
    from_export = verify_export(exported, JWKS)
    assert not from_export.ok and problem in from_export.summary()


def test_an_in_memory_database_is_read_on_its_one_connection() -> None:
    engine = make_engine("sqlite://")
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    _store(sessions)
    with read_transaction(sessions) as session:
        checkpoints = [checkpoint_document(c) for c in iter_checkpoints(session)]
        assert _quick_reading(session, 5, checkpoints, JWKS, None, Trusted()) is not None
        assert verify_database(session=session, jwks=JWKS).summary() == _reference(session)
    engine.dispose()


@pytest.mark.parametrize("reason", ["back\\slash", 'quote"', "tab\t", "\u0001", "\u001f"])
def test_each_character_jcs_escapes_is_written_escaped_by_the_database(
    sessions: sessionmaker[Session], audit_engine: Engine, reason: str
) -> None:
    """One such character alone must send the row down the escaping path (no naive quoting)."""
    with transaction(sessions) as session:
        append_entry(session=session, draft=draft(reason=reason), clock=SettableClock())
    assert _not_called_equal(audit_engine, through=1) == []


def _not_called_equal(engine: Engine, *, through: int) -> list[Any] | None:
    """The rows whose columns the database itself cannot call equal to their stored bytes."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            statement = postgresql_range_check(1, through, MAX_SPELLED_OTHERWISE + 1)
            return list(connection.execute(statement).all())
    raw = engine.raw_connection()
    try:
        return _spelled_otherwise(raw, engine, through)
    finally:
        raw.close()


def _edit_quietly(engine: Engine, seq: int, canonical: str) -> None:
    """Set an entry's stored bytes behind the append-only guards (dropped once, kept off)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_update"))
        connection.execute(
            text("UPDATE audit_entries SET canonical = :canonical WHERE seq = :seq"),
            {"canonical": canonical, "seq": seq},
        )


# Characters a hand or a tool might put into stored bytes: JSON's punctuation and escapes, a
# digit, a letter, whitespace and a character outside ASCII.
_CHARACTERS = st.sampled_from(['"', ",", ":", "}", "{", "[", "]", "0", "x", " ", "\\", "\n", "é"])


@pytest.mark.usefixtures("stored")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # each example is undone
)
@given(data=st.data())
def test_stored_bytes_edited_anywhere_are_named_by_their_seq(
    audit_engine: Engine, sessions: sessionmaker[Session], data: st.DataObject
) -> None:
    with read_transaction(sessions) as session:
        stored = {
            seq: canonical
            for seq, canonical in session.execute(select(AuditEntry.seq, AuditEntry.canonical))
        }
    seq = data.draw(st.sampled_from(sorted(stored)), label="seq")
    original = stored[seq]
    at = data.draw(st.integers(0, len(original) - 1), label="at")
    edit = data.draw(st.sampled_from(["replace", "insert", "delete"]), label="edit")
    character = data.draw(_CHARACTERS, label="character")
    changed = {
        "replace": original[:at] + character + original[at + 1 :],
        "insert": original[:at] + character + original[at:],
        "delete": original[:at] + original[at + 1 :],
    }[edit]
    assume(changed != original)
    _edit_quietly(audit_engine, seq, changed)
    try:
        with transaction(sessions) as session:
            report = verify_database(session=session, jwks=JWKS)
        assert report.summary() == (
            f"FAILED at seq {seq}: the stored JCS bytes are not those of the entry's columns"
        )
    finally:
        _edit_quietly(audit_engine, seq, original)

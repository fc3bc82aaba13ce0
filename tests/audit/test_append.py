"""Appending: gap-free seq, the hash chain, the caller's transaction, no BSN."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

import audit.append
import audit.checkpoint
from audit.append import append_entry, entries_held
from audit.chain import GENESIS_HASH, compute_entry_hash
from audit.checkpoint import checkpoint_if_due
from audit.keys import AuditSigningKey
from audit.models import AuditCheckpoint, AuditEntry
from audit.query import entry_document
from gateway.core.db import make_engine, make_sessionmaker, transaction
from gateway.migrations.runner import upgrade_to_head
from tests.audit.conftest import ORIGIN, draft
from tests.support import SettableClock


def test_first_entry_links_to_genesis_and_seq_counts_from_one(
    sessions: sessionmaker[Session],
) -> None:
    clock = SettableClock()
    with transaction(sessions) as session:
        first = append_entry(session=session, draft=draft(), clock=clock)
        second = append_entry(session=session, draft=draft(outcome="deny"), clock=clock)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    with transaction(sessions) as session:
        stored = [entry_document(e) for e in session.scalars(select(AuditEntry))]
    assert [compute_entry_hash(d) for d in stored] == [d["entry_hash"] for d in stored]


def test_categories_are_stored_sorted(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        entry = append_entry(session=session, draft=draft(), clock=SettableClock())
    assert entry.document["categories"] == ["care.involvement", "work.capacity"]


def test_a_rolled_back_action_leaves_no_entry(sessions: sessionmaker[Session]) -> None:
    clock = SettableClock()
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        append_entry(session=session, draft=draft(), clock=clock)
        raise RuntimeError("the disclosure failed after the append")
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert append_entry(session=session, draft=draft(), clock=clock).seq == 1


def test_recorded_at_never_goes_back(sessions: sessionmaker[Session]) -> None:
    clock = SettableClock()
    with transaction(sessions) as session:
        first = append_entry(session=session, draft=draft(), clock=clock)
    clock.advance(-60)
    with transaction(sessions) as session:
        second = append_entry(session=session, draft=draft(), clock=clock)
    assert second.recorded_at == first.recorded_at
    clock.advance(120)
    with transaction(sessions) as session:
        third = append_entry(session=session, draft=draft(), clock=clock)
    assert third.recorded_at - first.recorded_at == timedelta(seconds=60)


@pytest.mark.parametrize(
    "changes",
    [
        {"subject_ref": "111222333"},
        {"payload_digest": "not-a-digest"},
        {"action": "Disclose!"},
        {"outcome": "maybe"},
        {"unknown": "field"},
    ],
)
def test_drafts_refuse_bad_fields_and_anything_like_a_bsn(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        draft(**changes)


def test_a_bsn_in_a_reason_is_redacted_and_tokens_that_merely_hold_digits_are_kept() -> None:
    redacted = draft(reason="BSN 111222333 was looked up for action 84729144-1915-4da0")
    assert redacted.reason == "BSN [redacted] was looked up for action 84729144-1915-4da0"
    kept = draft(subject_ref="ab999900006cd" + "0" * 51)
    assert kept.subject_ref is not None


def test_a_checkpoint_falls_due_by_count_or_by_the_age_of_the_oldest_unsigned_entry(
    sessions: sessionmaker[Session],
) -> None:
    clock, key = SettableClock(), AuditSigningKey.generate()
    due = {
        "signing_key": key,
        "clock": clock,
        "every_entries": 3,
        "every_seconds": 60,
        "origin": ORIGIN,
    }
    signed = []
    for _ in range(4):
        with transaction(sessions) as session:
            entry = append_entry(session=session, draft=draft(), clock=clock)
            checkpoint = checkpoint_if_due(session=session, newest=entry, **due)
            signed.append(checkpoint.seq if checkpoint else None)
    assert signed == [None, None, 3, None]
    clock.advance(61)
    with transaction(sessions) as session:
        checkpoint = checkpoint_if_due(session=session, **due)  # the head, read again
    assert checkpoint is not None and checkpoint.seq == 4


def test_appends_in_one_transaction_read_the_head_once_and_chain_as_apart(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[object] = []
    real_plain_rows = audit.append.plain_rows

    def counted(session: Session, statement: Any, *rest: Any) -> Any:
        reads.append(statement)
        return real_plain_rows(session, statement, *rest)

    monkeypatch.setattr(audit.append, "plain_rows", counted)
    clock = SettableClock()
    with transaction(sessions) as session:
        append_entry(session=session, draft=draft(), clock=clock)
    with transaction(sessions) as session:
        entries = [append_entry(session=session, draft=draft(), clock=clock) for _ in range(5)]
    assert reads.count(audit.append._LINK) == 2  # once per transaction
    lock_reads = reads.count(audit.append._APPEND_LOCK)
    assert lock_reads == (2 if session.get_bind().dialect.name == "postgresql" else 0)
    assert [entry.seq for entry in entries] == [2, 3, 4, 5, 6]
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(entries))
    with transaction(sessions) as session:
        stored = [entry_document(e) for e in session.scalars(select(AuditEntry))]
    assert [compute_entry_hash(d) for d in stored] == [d["entry_hash"] for d in stored]


def test_the_head_and_the_oldest_unsigned_entry_are_read_together_once_per_transaction(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[object] = []
    for module in (audit.append, audit.checkpoint):
        real = module.plain_rows

        def counted(session: Session, statement: Any, *rest: Any, real: Any = real) -> Any:
            reads.append(statement)
            return real(session, statement, *rest)

        monkeypatch.setattr(module, "plain_rows", counted)
    clock, key = SettableClock(), AuditSigningKey.generate()
    due = {
        "signing_key": key,
        "clock": clock,
        "every_entries": 3,
        "every_seconds": 60,
        "origin": ORIGIN,
    }
    signed = []
    for appends in (1, 3, 2):
        with transaction(sessions) as session:
            for _ in range(appends):
                entry = append_entry(session=session, draft=draft(), clock=clock)
                checkpoint = checkpoint_if_due(session=session, newest=entry, **due)
                signed.append(checkpoint.seq if checkpoint else None)
    assert signed == [None, None, 3, None, None, 6]
    assert reads.count(audit.append._LINK) == 3
    assert reads.count(audit.checkpoint._OLDEST_UNSIGNED) == 0


@pytest.mark.parametrize("savepoint_ends", ["rolled back", "released"])
def test_an_append_in_a_savepoint_is_linked_to_whatever_the_savepoint_left(
    sessions: sessionmaker[Session], savepoint_ends: str
) -> None:
    clock = SettableClock()
    with transaction(sessions) as session:
        first = append_entry(session=session, draft=draft(), clock=clock)
        nested = session.begin_nested()
        inside = append_entry(session=session, draft=draft(outcome="deny"), clock=clock)
        if savepoint_ends == "rolled back":
            nested.rollback()
        else:
            nested.commit()
        after = append_entry(session=session, draft=draft(), clock=clock)
    before = first if savepoint_ends == "rolled back" else inside
    assert (after.seq, after.prev_hash) == (before.seq + 1, before.entry_hash)
    with transaction(sessions) as session:
        stored = [entry_document(e) for e in session.scalars(select(AuditEntry))]
    assert [d["seq"] for d in stored] == list(range(1, len(stored) + 1))
    assert all(b["prev_hash"] == a["entry_hash"] for a, b in itertools.pairwise(stored))


def test_checkpoints_fall_due_in_one_transaction_as_in_many(
    sessions: sessionmaker[Session],
) -> None:
    clock, key = SettableClock(), AuditSigningKey.generate()
    due = {
        "signing_key": key,
        "clock": clock,
        "every_entries": 3,
        "every_seconds": 60,
        "origin": ORIGIN,
    }
    signed = []
    with transaction(sessions) as session:
        for _ in range(7):
            entry = append_entry(session=session, draft=draft(), clock=clock)
            checkpoint = checkpoint_if_due(session=session, newest=entry, **due)
            signed.append(checkpoint.seq if checkpoint else None)
        clock.advance(61)
        entry = append_entry(session=session, draft=draft(), clock=clock)
        checkpoint = checkpoint_if_due(session=session, newest=entry, **due)
    assert signed == [None, None, 3, None, None, 6, None]
    assert checkpoint is not None and checkpoint.seq == 8  # entry 7 waited 61 s


def _statements_on(session: Session) -> list[tuple[str, bool]]:
    """(SQL, executemany) of every statement the session's connection runs from now on."""
    seen: list[tuple[str, bool]] = []

    def before(_conn: Any, _cursor: Any, sql: str, _params: Any, _context: Any, many: bool) -> None:
        seen.append((sql, many))

    event.listen(session.connection(), "before_cursor_execute", before)
    return seen


def _audit_inserts(seen: list[tuple[str, bool]]) -> list[bool]:
    return [many for sql, many in seen if sql.startswith("INSERT INTO audit_entries")]


def test_held_entries_are_sealed_and_written_in_one_statement_at_the_end_and_chain_as_apart(
    sessions: sessionmaker[Session],
) -> None:
    clock = SettableClock()
    with transaction(sessions) as session:
        append_entry(session=session, draft=draft(), clock=clock)
    with transaction(sessions) as session:
        seen = _statements_on(session)
        with entries_held(session):
            held = [append_entry(session=session, draft=draft(), clock=clock) for _ in range(4)]
            assert _audit_inserts(seen) == []  # nothing written yet
        assert _audit_inserts(seen) == [True]  # one statement, many rows
    assert held == [None] * 4  # their places are given when they are written
    with transaction(sessions) as session:
        stored = [entry_document(e) for e in session.scalars(select(AuditEntry))]
    assert [d["seq"] for d in stored] == [1, 2, 3, 4, 5]
    assert [compute_entry_hash(d) for d in stored] == [d["entry_hash"] for d in stored]
    assert all(b["prev_hash"] == a["entry_hash"] for a, b in itertools.pairwise(stored))


def test_a_held_entry_keeps_the_time_it_was_appended_and_never_goes_before_its_predecessor(
    sessions: sessionmaker[Session],
) -> None:
    clock = SettableClock()
    with transaction(sessions) as session:
        append_entry(session=session, draft=draft(), clock=clock)
    with transaction(sessions) as session, entries_held(session):
        clock.advance(5)
        append_entry(session=session, draft=draft(), clock=clock)
        clock.advance(-60)  # a clock stepped back
        append_entry(session=session, draft=draft(), clock=clock)
        clock.advance(600)  # the block ends long after
    with transaction(sessions) as session:
        times = [
            e.recorded_at for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]
    assert times[1] - times[0] == timedelta(seconds=5)
    assert times[2] == times[1]


def test_readers_of_the_log_see_held_entries_and_a_due_checkpoint_is_made_once_written(
    sessions: sessionmaker[Session],
) -> None:
    clock, key = SettableClock(), AuditSigningKey.generate()
    due = {
        "signing_key": key,
        "clock": clock,
        "every_entries": 3,
        "every_seconds": 60,
        "origin": ORIGIN,
    }
    newest_seen: list[int] = []

    def after_written(session: Session, newest: audit.append.Link) -> None:
        newest_seen.append(newest.seq)
        checkpoint_if_due(session=session, newest=newest, **due)

    with transaction(sessions) as session, entries_held(session, after_written):
        for _ in range(4):
            append_entry(session=session, draft=draft(), clock=clock)
        newest = audit.append.head(session)  # a reader: what is held is written first
        assert newest is not None and newest.seq == 4
        for _ in range(2):
            append_entry(session=session, draft=draft(), clock=clock)
    assert newest_seen == [6]
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 6
        assert list(session.scalars(select(AuditCheckpoint.seq))) == [6]


def test_a_block_that_appends_nothing_makes_no_checkpoint(sessions: sessionmaker[Session]) -> None:
    called: list[object] = []
    with transaction(sessions) as session, entries_held(session, lambda *args: called.append(args)):
        session.execute(select(func.count()).select_from(AuditEntry))
    assert called == []


def test_the_logs_lock_is_taken_when_held_entries_are_written_not_at_their_append(
    postgres_url: str,
) -> None:
    """Another writer appends and commits while a block holds entries; the block's entries
    follow it in the chain."""
    engine = make_engine(postgres_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    clock = SettableClock()
    try:
        with transaction(sessions) as session, entries_held(session):
            append_entry(session=session, draft=draft(actor_party="held"), clock=clock)
            with transaction(sessions) as other:
                other.execute(text("SET LOCAL lock_timeout = '2s'"))  # fails, not hangs
                written = append_entry(session=other, draft=draft(), clock=clock)
                assert written is not None and written.seq == 1
        with transaction(sessions) as session:
            stored = [entry_document(e) for e in session.scalars(select(AuditEntry))]
    finally:
        engine.dispose()
    assert [(d["seq"], d["actor_party"]) for d in stored] == [(1, "uwv-leiden"), (2, "held")]
    assert stored[1]["prev_hash"] == stored[0]["entry_hash"]


def test_a_failed_block_drops_what_it_held_and_the_next_transaction_starts_from_the_log(
    sessions: sessionmaker[Session],
) -> None:
    clock = SettableClock()
    with pytest.raises(RuntimeError), transaction(sessions) as session, entries_held(session):
        append_entry(session=session, draft=draft(), clock=clock)
        raise RuntimeError("a unit failed after its append")
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert append_entry(session=session, draft=draft(), clock=clock).seq == 1


def test_no_savepoint_may_append_while_entries_are_held(sessions: sessionmaker[Session]) -> None:
    clock = SettableClock()
    refused = pytest.raises(RuntimeError, match="held")
    with refused, transaction(sessions) as session, entries_held(session):
        append_entry(session=session, draft=draft(), clock=clock)
        with session.begin_nested():
            append_entry(session=session, draft=draft(), clock=clock)
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_savepoint_that_does_not_append_leaves_held_entries_alone(
    sessions: sessionmaker[Session],
) -> None:
    clock = SettableClock()
    with transaction(sessions) as session, entries_held(session):
        append_entry(session=session, draft=draft(), clock=clock)
        nested = session.begin_nested()
        session.execute(select(func.count()).select_from(AuditEntry))
        nested.rollback()
        append_entry(session=session, draft=draft(), clock=clock)
    with transaction(sessions) as session:
        stored = [entry_document(e) for e in session.scalars(select(AuditEntry))]
    assert [d["seq"] for d in stored] == [1, 2]
    assert stored[1]["prev_hash"] == stored[0]["entry_hash"]

"""Group commit: units share a transaction, a failing one undone alone, answered after the commit."""

from __future__ import annotations

import contextvars
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from audit.append import append_entry
from audit.chain import compute_entry_hash
from audit.models import AuditEntry
from audit.query import entry_document
from gateway.core.batch_writer import BatchWriter, WriterClosed
from gateway.core.db import make_engine, make_sessionmaker, read_transaction, transaction
from gateway.migrations.runner import upgrade_to_head
from tests.audit.conftest import draft
from tests.support import SettableClock

REQUEST = contextvars.ContextVar("request", default="none")


class _Base(DeclarativeBase):
    pass


class Written(_Base):
    """The test table as an ORM entity, for units that write through the session."""

    __tablename__ = "written"
    n: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with transaction(make_sessionmaker(engine)) as session:
        session.execute(text("CREATE TABLE written (n INTEGER PRIMARY KEY)"))
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def writer(sessions: sessionmaker[Session]) -> Iterator[BatchWriter]:
    writer = BatchWriter(sessions)
    yield writer
    writer.close()


def _insert(n: int) -> Callable[[Session], int]:
    def unit(session: Session) -> int:
        session.execute(text("INSERT INTO written (n) VALUES (:n)"), {"n": n})
        return n

    return unit


def _counted(runs: list[int], n: int) -> Callable[[Session], int]:
    """A unit that inserts ``n`` and notes each run of it in ``runs``."""

    def unit(session: Session) -> int:
        runs.append(n)
        return _insert(n)(session)

    return unit


def _written(sessions: sessionmaker[Session]) -> list[int]:
    with read_transaction(sessions) as session:
        return sorted(session.execute(text("SELECT n FROM written")).scalars())


def _held_open(writer: BatchWriter) -> tuple[threading.Event, Future[Any]]:
    """A unit that keeps the writer busy until released: what is queued meanwhile is one batch."""
    started, release = threading.Event(), threading.Event()

    def hold(session: Session) -> None:
        started.set()
        assert release.wait(10)

    future = writer.submit(hold)
    assert started.wait(10)
    return release, future


def _one_batch(writer: BatchWriter, *works: Callable[[Session], Any]) -> list[Future[Any]]:
    """Submit ``works`` while the writer is held busy, so that they run as one batch."""
    release, held = _held_open(writer)
    futures = [writer.submit(work) for work in works]
    release.set()
    held.result(10)
    return futures


def test_units_queued_together_commit_together_and_a_failing_one_leaves_nothing(
    writer: BatchWriter, sessions: sessionmaker[Session]
) -> None:
    def fails_after_writing(session: Session) -> None:
        _insert(2)(session)
        raise ValueError("the unit's own failure")

    first, failing, third = _one_batch(writer, _insert(1), fails_after_writing, _insert(3))
    assert first.result(10) == 1
    assert third.result(10) == 3
    with pytest.raises(ValueError, match="the unit's own failure"):
        failing.result(10)
    assert _written(sessions) == [1, 3]


def test_a_batch_without_failures_runs_each_unit_once_without_savepoints(
    writer: BatchWriter, sessions: sessionmaker[Session], engine: Engine
) -> None:
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    runs: list[int] = []
    event.listen(engine, "before_cursor_execute", note)
    try:
        futures = _one_batch(writer, *(_counted(runs, n) for n in range(4)))
        assert [future.result(10) for future in futures] == [0, 1, 2, 3]
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert runs == [0, 1, 2, 3]
    assert not [statement for statement in statements if "SAVEPOINT" in statement.upper()]
    assert _written(sessions) == [0, 1, 2, 3]


def test_after_a_failure_the_batch_runs_again_and_commits_each_write_once(
    writer: BatchWriter, sessions: sessionmaker[Session]
) -> None:
    runs: list[int] = []

    def fails(_: Session) -> None:
        runs.append(-1)
        raise ValueError("no")

    first, failing, last = _one_batch(writer, _counted(runs, 1), fails, _counted(runs, 3))
    assert (first.result(10), last.result(10)) == (1, 3)
    with pytest.raises(ValueError, match="no"):
        failing.result(10)
    # Together until the failure, rolled back, then every unit again, each in its savepoint.
    assert runs == [1, -1, 1, -1, 3]
    assert _written(sessions) == [1, 3]


def test_a_failing_unit_takes_its_orm_changes_with_it(
    writer: BatchWriter, sessions: sessionmaker[Session]
) -> None:
    def adds_then_fails(session: Session) -> None:
        session.add(Written(n=1))
        session.flush()
        session.add(Written(n=2))  # pending, never flushed
        raise ValueError("after its changes")

    def adds(session: Session) -> None:
        session.add(Written(n=3))  # flushed when the unit's savepoint is released

    failing, kept = _one_batch(writer, adds_then_fails, adds)
    with pytest.raises(ValueError, match="after its changes"):
        failing.result(10)
    kept.result(10)
    assert _written(sessions) == [3]


def test_a_unit_whose_flush_fails_leaves_the_others_going(
    writer: BatchWriter, sessions: sessionmaker[Session]
) -> None:
    writer.submit(_insert(1)).result(10)

    def duplicate(session: Session) -> None:
        session.add(Written(n=1))  # the primary key is taken: the flush fails

    before, failing, after = _one_batch(writer, _insert(2), duplicate, _insert(3))
    with pytest.raises(IntegrityError):
        failing.result(10)
    assert before.result(10) == 2  # the failed flush rolled back its own unit only
    assert after.result(10) == 3
    assert _written(sessions) == [1, 2, 3]


def test_no_unit_is_answered_when_the_commit_fails(
    writer: BatchWriter, sessions: sessionmaker[Session], engine: Engine
) -> None:
    def refuse(_: Any) -> None:
        raise OSError("disk full at commit")

    event.listen(engine, "commit", refuse)
    try:
        futures = [writer.submit(_insert(n)) for n in range(5)]
        for future in futures:
            with pytest.raises(OSError, match="disk full at commit"):
                future.result(10)
    finally:
        event.remove(engine, "commit", refuse)
    assert _written(sessions) == []
    assert writer.submit(_insert(7)).result(10) == 7  # the writer goes on
    assert _written(sessions) == [7]


def test_units_run_in_arrival_order_with_the_submitters_context(writer: BatchWriter) -> None:
    seen: list[tuple[int, str]] = []

    def note(n: int) -> Callable[[Session], None]:
        return lambda _: seen.append((n, REQUEST.get()))

    release, _ = _held_open(writer)
    futures = []
    for n in range(10):
        REQUEST.set(f"request {n}")
        futures.append(writer.submit(note(n)))
    release.set()
    for future in futures:
        future.result(10)
    assert seen == [(n, f"request {n}") for n in range(10)]


def test_a_unit_whose_caller_has_gone_is_not_run(
    writer: BatchWriter, sessions: sessionmaker[Session]
) -> None:
    release, _ = _held_open(writer)
    abandoned = writer.submit(_insert(1))
    kept = writer.submit(_insert(2))
    assert abandoned.cancel()
    release.set()
    assert kept.result(10) == 2
    assert _written(sessions) == [2]


def test_closing_finishes_what_is_queued_and_refuses_more(
    sessions: sessionmaker[Session],
) -> None:
    writer = BatchWriter(sessions)
    release, _ = _held_open(writer)
    queued = [writer.submit(_insert(n)) for n in range(3)]
    closing = threading.Thread(target=writer.close)
    closing.start()
    release.set()
    closing.join(10)
    assert not closing.is_alive()
    assert [future.result(0) for future in queued] == [0, 1, 2]
    with pytest.raises(WriterClosed):
        writer.submit(_insert(9))
    assert _written(sessions) == [0, 1, 2]


@pytest.fixture
def audited(database_url: str) -> Iterator[tuple[BatchWriter, Engine]]:
    """A writer on a migrated database, for units that append to the audit log."""
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    writer = BatchWriter(make_sessionmaker(engine))
    yield writer, engine
    writer.close()
    engine.dispose()


def _appends(fails: bool = False) -> Callable[[Session], str]:
    def unit(session: Session) -> str:
        append_entry(session=session, draft=draft(), clock=SettableClock())
        if fails:
            raise ValueError("failed after its append")
        return "appended"

    return unit


def _stored_chain(engine: Engine) -> list[int]:
    """The seqs of the log, after checking that every entry links to the one before."""
    with read_transaction(make_sessionmaker(engine)) as session:
        stored = [entry_document(entry) for entry in session.scalars(select(AuditEntry))]
    assert [compute_entry_hash(d) for d in stored] == [d["entry_hash"] for d in stored]
    assert all(b["prev_hash"] == a["entry_hash"] for a, b in itertools.pairwise(stored))
    return [d["seq"] for d in stored]


def test_the_audit_entries_of_a_batch_are_written_in_one_statement(
    audited: tuple[BatchWriter, Engine],
) -> None:
    writer, engine = audited
    inserts: list[bool] = []

    def note(_conn: Any, _cursor: Any, statement: str, _p: Any, _c: Any, many: bool) -> None:
        if statement.startswith("INSERT INTO audit_entries"):
            inserts.append(many)

    event.listen(engine, "before_cursor_execute", note)
    try:
        futures = _one_batch(writer, *(_appends() for _ in range(4)))
        assert [future.result(10) for future in futures] == ["appended"] * 4
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert inserts == [True]
    assert _stored_chain(engine) == [1, 2, 3, 4]


def test_once_a_batch_is_written_its_newest_entry_is_handed_on_once_for_a_checkpoint(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    newest: list[int] = []
    writer = BatchWriter(
        make_sessionmaker(engine), after_written=lambda _session, link: newest.append(link.seq)
    )
    try:
        for future in _one_batch(writer, *(_appends() for _ in range(3))):
            future.result(10)
    finally:
        writer.close()
        engine.dispose()
    assert newest == [3]


def test_after_a_failure_each_unit_writes_its_own_entry_and_the_chain_holds(
    audited: tuple[BatchWriter, Engine],
) -> None:
    writer, engine = audited
    first, failing, last = _one_batch(writer, _appends(), _appends(fails=True), _appends())
    assert (first.result(10), last.result(10)) == ("appended", "appended")
    with pytest.raises(ValueError, match="after its append"):
        failing.result(10)
    assert _stored_chain(engine) == [1, 2]

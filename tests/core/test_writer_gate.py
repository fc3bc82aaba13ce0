"""SQLite's writer gate: one transaction at a time, first come first served, never stuck."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gateway.core.db import (
    WriterGate,
    WriterTimeout,
    make_engine,
    make_sessionmaker,
    read_transaction,
    transaction,
)


def _wait_until(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def test_turns_are_handed_over_in_arrival_order() -> None:
    gate = WriterGate()
    gate.acquire()
    order: list[int] = []

    def write(number: int) -> None:
        gate.acquire()
        order.append(number)
        gate.release()

    threads = []
    for number in range(8):
        thread = threading.Thread(target=write, args=(number,))
        thread.start()
        threads.append(thread)
        _wait_until(lambda number=number: gate.queued == number + 1)
    gate.release()
    for thread in threads:
        thread.join()
    assert order == list(range(8))
    assert gate.queued == 0


def test_a_wait_that_times_out_leaves_the_queue() -> None:
    gate = WriterGate()
    gate.acquire()
    failures: list[BaseException] = []

    def impatient() -> None:
        try:
            gate.acquire(timeout=0.05)
        except WriterTimeout as exc:
            failures.append(exc)

    thread = threading.Thread(target=impatient)
    thread.start()
    thread.join()
    assert len(failures) == 1
    assert gate.queued == 0
    gate.release()
    gate.acquire(timeout=0.05)  # free again
    gate.release()


def test_holder_is_known_to_its_own_thread_only() -> None:
    gate = WriterGate()
    gate.acquire()
    seen: list[bool] = []
    thread = threading.Thread(target=lambda: seen.append(gate.held_here()))
    thread.start()
    thread.join()
    assert gate.held_here()
    assert seen == [False]
    gate.release()
    assert not gate.held_here()


def test_concurrent_sqlite_transactions_all_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        session.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))

    def increment() -> None:
        for _ in range(50):
            with transaction(sessions) as session:
                value = session.execute(text("SELECT n FROM counter")).scalar_one()
                session.execute(text("UPDATE counter SET n = :n"), {"n": value + 1})

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with transaction(sessions) as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == 400
    engine.dispose()


def test_a_failed_transaction_gives_its_turn_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    sessions = make_sessionmaker(engine)
    with pytest.raises(RuntimeError), transaction(sessions):
        raise RuntimeError("handler failed")
    done = threading.Event()

    def next_writer() -> None:
        with transaction(sessions) as session:
            session.execute(text("SELECT 1"))
        done.set()

    threading.Thread(target=next_writer).start()
    assert done.wait(5)
    engine.dispose()


def test_a_read_transaction_does_not_wait_for_the_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        session.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    seen: list[int] = []
    with transaction(sessions) as writer:
        writer.execute(text("UPDATE t SET n = 2"))
        reader = threading.Thread(target=lambda: seen.append(_read(sessions)))
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "the reader queued behind the writer"
    assert seen == [1]  # the last committed state
    assert _read(sessions) == 2
    engine.dispose()


def _read(sessions: Any) -> int:
    with read_transaction(sessions) as session:
        return int(session.execute(text("SELECT n FROM t")).scalar_one())

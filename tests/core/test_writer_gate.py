"""SQLite's writer gate: one transaction at a time, first come first served, never stuck."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
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
from gateway.settings import Settings
from tests.support import free_port, new_partner, register, serving, token_request_over_http


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


def test_a_coroutine_waits_for_its_turn_on_the_event_loop() -> None:
    """Held by a thread, the turn is handed to a coroutine queued for it, in its context."""
    gate = WriterGate()
    gate.acquire()
    seen: list[bool] = []

    async def write() -> None:
        await gate.acquire_async(timeout=5)
        seen.append(gate.held_here())
        seen.append(await asyncio.to_thread(gate.held_here))  # a worker thread runs for it
        gate.release()
        seen.append(gate.held_here())

    coroutine = threading.Thread(target=asyncio.run, args=(write(),))
    coroutine.start()
    _wait_until(lambda: gate.queued == 1)
    gate.release()
    coroutine.join(timeout=5)
    assert seen == [True, True, False]
    assert not gate.held_here()
    gate.acquire(timeout=0.05)  # free again
    gate.release()


def test_a_coroutine_wait_that_times_out_or_is_cancelled_leaves_the_queue() -> None:
    gate = WriterGate()
    gate.acquire()

    async def impatient() -> None:
        with pytest.raises(WriterTimeout):
            await gate.acquire_async(timeout=0.05)
        assert gate.queued == 0
        waiting = asyncio.create_task(gate.acquire_async(timeout=5))
        while gate.queued == 0:
            await asyncio.sleep(0.001)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert gate.queued == 0

    asyncio.run(impatient())
    gate.release()
    gate.acquire(timeout=0.05)  # nobody took the turn on its way out
    gate.release()


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


def _served_settings(tmp_path: Path) -> Settings:
    port = free_port()
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "var",
        public_url=f"http://127.0.0.1:{port}",
        port=port,
        worker_threads=2,
        write_wait_seconds=10,
    )


@contextmanager
def _served_with_a_partner(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    """A gateway on a real port with two worker threads, and a partner's bearer header."""
    settings = _served_settings(tmp_path)
    uwv = new_partner("uwv-leiden", "uwv", roles=("reintegration-advisor",))
    with serving(settings) as runtime:
        register(runtime, uwv)
        assertion = uwv.assertion(
            audience=f"{settings.public_url}/oauth/token", now=runtime.clock()
        )
        token = token_request_over_http(settings.public_url, assertion)
        yield settings, {"Authorization": f"Bearer {token}"}


def _feeds(settings: Settings, headers: dict[str, str], count: int) -> list[httpx.Response]:
    """``count`` concurrent reads of the deletion-notice feed: a sync handler in a transaction."""
    url = f"{settings.public_url}/v1/deletion-notices"
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: httpx.get(url, headers=headers, timeout=30), range(count)))


def test_requests_waiting_for_the_turn_hold_no_worker_thread(tmp_path: Path) -> None:
    """More requests than worker threads, all wanting a transaction: none waits out the turn.

    Were a worker thread to wait at the gate, the waiters would hold every thread and the
    holder of the turn could not run its handler until they timed out (503s).
    """
    with _served_with_a_partner(tmp_path) as (settings, headers):
        answers = _feeds(settings, headers, 12)
    assert [answer.status_code for answer in answers] == [200] * 12


def test_a_client_slow_to_send_its_body_holds_no_turn(tmp_path: Path) -> None:
    """A body announced and not sent: other requests' transactions go on meanwhile."""
    with (
        _served_with_a_partner(tmp_path) as (settings, headers),
        socket.create_connection(("127.0.0.1", settings.port)) as stalled,
    ):
        stalled.sendall(
            b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\n"
        )
        time.sleep(0.3)  # the stalled request is in the gateway, waiting for its body
        answers = _feeds(settings, headers, 4)
    assert [answer.status_code for answer in answers] == [200] * 4  # 503s, the turn held

"""Database engine and sessions: a SQLite file (WAL) by default, PostgreSQL when configured."""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from contextvars import ContextVar
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from dbtypes import named_metadata


class Base(DeclarativeBase):
    """Tables owned by the gateway itself (parties, keys, replay protection)."""

    metadata = named_metadata()


_BUSY_TIMEOUT_SECONDS = 30
_READ_ONLY = "schakel_read_only"  # execution option: this transaction only reads


class WriterTimeout(Exception):
    """No turn to write came within the busy timeout."""


class WriterGate:
    """One SQLite transaction at a time per process, in arrival order.

    SQLite has one write lock per file. Threads that all ask for it at BEGIN IMMEDIATE poll
    through SQLite's busy handler, which sleeps up to 100 ms between tries: the losers of a race
    wait long after the lock is free, and tails grow to seconds. Queuing here first hands the
    turn over the moment the previous transaction ends, first come first served; the busy
    timeout stays as the fallback for other processes (the CLI) on the same file.

    The turn belongs to a context (contextvars), not to a thread: a request takes it on the
    event loop (:meth:`acquire_async`, no worker thread waits) and its handler, run on any
    worker thread with a copy of the request's context, holds it; a thread that takes it with
    :meth:`acquire` holds it in its own context.
    """

    def __init__(self, timeout: float = _BUSY_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout
        self._mutex = threading.Lock()
        self._waiting: deque[_Waiter] = deque()
        self._held = False

    @property
    def queued(self) -> int:
        """How many transactions wait for their turn."""
        return len(self._waiting)

    def held_here(self) -> bool:
        """True when this context holds the turn (a nested transaction must not queue)."""
        return self in _TURNS_HELD.get()

    def acquire(self, timeout: float | None = None) -> None:
        """Wait for the turn to write; WriterTimeout after ``timeout`` (the gate's own by default)."""
        timeout = self._timeout if timeout is None else timeout
        turn = self._take_or_queue(_ThreadWaiter)
        if turn is not None and not turn.lock.acquire(timeout=timeout) and self._dequeued(turn):
            raise WriterTimeout(f"no turn to write within {timeout:.0f} s")
        _TURNS_HELD.set((*_TURNS_HELD.get(), self))

    async def acquire_async(self, timeout: float | None = None) -> None:
        """:meth:`acquire` for a coroutine: it waits on the event loop, holding no thread."""
        timeout = self._timeout if timeout is None else timeout
        turn = self._take_or_queue(partial(_TaskWaiter, asyncio.get_running_loop()))
        if turn is not None:
            try:
                await asyncio.wait_for(asyncio.shield(turn.handed), timeout)
            except TimeoutError:
                if self._dequeued(turn):
                    raise WriterTimeout(f"no turn to write within {timeout:.0f} s") from None
            except asyncio.CancelledError:
                if not self._dequeued(turn):
                    self.release()  # handed over as the wait was cancelled: pass it on
                raise
        _TURNS_HELD.set((*_TURNS_HELD.get(), self))

    def _take_or_queue(self, waiter: Callable[[], _W]) -> _W | None:
        """None when the turn was free and is now taken, else the waiter queued for it."""
        with self._mutex:
            if not self._held:
                self._held = True
                return None
            turn = waiter()
            self._waiting.append(turn)
            return turn

    def _dequeued(self, turn: _Waiter) -> bool:
        """After a wait ended early: True when the turn was still queued (now it is not),
        False when it was handed over just now (and so is held)."""
        with self._mutex:
            if turn in self._waiting:
                self._waiting.remove(turn)
                return True
            return False

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()

    def release(self) -> None:
        """End the turn, in the context that took it, and hand it to the first in the queue."""
        _TURNS_HELD.set(tuple(gate for gate in _TURNS_HELD.get() if gate is not self))
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().hand_over()  # the gate stays held
            else:
                self._held = False


class _Waiter(Protocol):
    def hand_over(self) -> None: ...


_W = TypeVar("_W", bound=_Waiter)


class _ThreadWaiter:
    """A thread's place in the queue: a lock it sleeps on until the turn is handed over."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()

    def hand_over(self) -> None:
        self.lock.release()


class _TaskWaiter:
    """A coroutine's place in the queue: a future resolved on its own event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.handed: asyncio.Future[None] = loop.create_future()

    def hand_over(self) -> None:
        self._loop.call_soon_threadsafe(self._resolve)

    def _resolve(self) -> None:
        if not self.handed.done():
            self.handed.set_result(None)


# The gates whose turn this context holds (see WriterGate).
_TURNS_HELD: ContextVar[tuple[WriterGate, ...]] = ContextVar("schakel_turns_held", default=())


_WRITER_GATES: weakref.WeakKeyDictionary[Engine, WriterGate] = weakref.WeakKeyDictionary()


def make_engine(url: str, *, write_wait: float = _BUSY_TIMEOUT_SECONDS) -> Engine:
    """Create the engine; SQLite gets WAL, foreign keys, a busy timeout and a writer gate.

    ``write_wait`` bounds how long a transaction waits for its turn to write: at the writer gate
    for this process's transactions (WriterTimeout), and in SQLite's busy handler for another
    process's lock ("database is locked"); either is a 503 to a client, who may retry.

    JSON columns are written compact and parsed by orjson: they are read on every disclosure
    and audit query, and verifying the audit log compares them with stored JCS as text.
    """
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": write_wait},
            json_serializer=_compact_json,
            json_deserializer=orjson.loads,
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=int(write_wait * 1000)))
        event.listen(engine, "begin", _sqlite_begin_immediate)
        _WRITER_GATES[engine] = WriterGate(write_wait)
        return engine
    return create_engine(
        url, pool_pre_ping=True, json_serializer=_compact_json, json_deserializer=orjson.loads
    )


def _compact_json(value: Any) -> str:
    """JSON without spaces; non-ASCII as UTF-8, as JCS writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _ensure_sqlite_folder(url: str) -> None:
    database = url.split(":///", 1)[1] if ":///" in url else ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _: Any, *, busy_ms: int) -> None:
    # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE below takes effect.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take the write lock at BEGIN: readers never upgrade mid-transaction and deadlock.

    A transaction opened by :func:`read_transaction` only reads: a deferred BEGIN suffices.
    """
    if connection.get_execution_options().get(_READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


class KeptDespiteError(Exception):
    """An error raised after writes that must stay: the transaction commits, then it propagates.

    A refusal is one: its audit entry is written, then the caller gets the problem.
    """


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block ends normally, roll back on any error, except
    :class:`KeptDespiteError`, which commits first.

    On SQLite the transaction first waits for its turn at the engine's WriterGate.
    """
    gate = _gate_of(factory)
    turn: AbstractContextManager[None] = (
        gate if gate is not None and not gate.held_here() else nullcontext()
    )
    kept: KeptDespiteError | None = None
    with turn, factory() as session:
        with session.begin():
            try:
                yield session
            except KeptDespiteError as error:
                kept = error
        if kept is not None:
            raise kept


@asynccontextmanager
async def write_turn(factory: sessionmaker[Session]) -> AsyncIterator[None]:
    """SQLite's turn to write, waited for on the event loop (none to take on PostgreSQL).

    For a request whose transaction runs on worker threads: no worker thread sits waiting at
    the gate while the holder of the turn needs one to finish. A :func:`transaction` opened in
    this context, on any thread given a copy of it, holds the turn and does not queue.
    """
    gate = _gate_of(factory)
    if gate is None or gate.held_here():
        yield
        return
    await gate.acquire_async()
    try:
        yield
    finally:
        gate.release()


def _gate_of(factory: sessionmaker[Session]) -> WriterGate | None:
    """The writer gate of a SQLite session factory's engine; None for PostgreSQL."""
    bind = factory.kw.get("bind")
    return _WRITER_GATES.get(bind) if isinstance(bind, Engine) else None


@contextmanager
def read_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads: it never waits for a turn to write.

    On SQLite it starts with a deferred BEGIN outside the writer gate; in WAL mode it reads the
    last committed state while a writer works. Writing in it is a programming error.
    """
    with factory() as session, session.begin():
        session.connection(execution_options={_READ_ONLY: True})
        yield session

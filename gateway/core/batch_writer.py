"""Group commit: one thread runs the small units of work of many requests in one transaction.

What must be serial is the audit log's head and the commit with its fsync. A unit may also read
and decide (a disclosure with the embedded policy engine, which waits on nothing); anything that
can wait on the network is done before, beside other requests. Here one thread
takes the units waiting in the queue, up to ``max_batch`` at a time, and runs them one after the
other in one transaction: one BEGIN, one COMMIT, one fsync for the batch. Should one of them
fail, that transaction is rolled back and the batch runs again in a new one, each unit in a
savepoint of its own: the unit that fails leaves nothing behind and the others go on. A unit may
so run twice, but only one run's writes are ever committed; units therefore act on the session
alone. Only when the transaction has committed does any unit's caller get its result, so a
disclosure's audit entry is durable before its data leaves; if the commit fails, every unit of
the batch fails with it.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from sqlalchemy.orm import Session, sessionmaker

from audit.append import Link, entries_held
from gateway.core.db import transaction

Result = TypeVar("Result")
log = structlog.get_logger("gateway.core.batch_writer")

_STOP = None


class WriterClosed(Exception):
    """The writer no longer takes units of work (the gateway is shutting down)."""


class _UnitFailed(Exception):
    """A unit failed in a batch run without savepoints: the batch is run again, apart."""


@dataclass
class _Unit:
    work: Callable[[Session], Any]
    context: contextvars.Context  # the request's: its log lines keep their trace id
    future: Future[Any] = field(default_factory=Future)


class BatchWriter:
    """Runs units of work for requests in shared transactions; a unit's failure is its own."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        max_batch: int = 32,
        on_batch: Callable[[int], None] = lambda size: None,
        after_written: Callable[[Session, Link], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._after_written = after_written
        self._max_batch = max_batch
        self._on_batch = on_batch
        self._queue: queue.SimpleQueue[_Unit | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    async def run(self, work: Callable[[Session], Result]) -> Result:
        """Run ``work`` in the next batch; its result once the batch has committed."""
        result: Result = await asyncio.wrap_future(self.submit(work))
        return result

    def submit(self, work: Callable[[Session], Result]) -> Future[Result]:
        """Queue ``work``; the future resolves after the commit of its batch."""
        unit = _Unit(work=work, context=contextvars.copy_context())
        with self._lock:
            if self._closed:
                raise WriterClosed("the gateway is shutting down")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="schakel-batch-writer", daemon=True
                )
                self._thread.start()
            self._queue.put(unit)
        return unit.future

    @property
    def queued(self) -> int:
        """Units of work waiting for a batch."""
        return self._queue.qsize()

    def close(self) -> None:
        """Finish the units already queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join()

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    break
                if unit is _STOP:
                    stop = True
                    break
                batch.append(unit)
            try:
                self._run_batch(batch)
            except Exception as error:  # never let the writer thread die
                log.error("batch writer failed", exc_info=error)
                for unit in batch:
                    if not unit.future.done():
                        unit.future.set_exception(error)
            if stop:
                return

    def _run_batch(self, batch: list[_Unit]) -> None:
        started = [unit for unit in batch if unit.future.set_running_or_notify_cancel()]
        if not started:
            return  # every caller has gone: nothing done, nothing to answer
        self._on_batch(len(started))
        try:
            outcomes = self._run_together(started)
            if outcomes is None:
                outcomes = self._run_apart(started)
        except Exception as error:  # the commit (or the transaction) failed: none took place
            log.error("batch transaction failed", units=len(started), exc_info=error)
            for unit in started:
                unit.future.set_exception(error)
            return
        for unit, succeeded, value in outcomes:
            if succeeded:
                unit.future.set_result(value)
            else:
                unit.future.set_exception(value)

    def _run_together(self, units: list[_Unit]) -> list[tuple[_Unit, bool, Any]] | None:
        """Every unit in one transaction without savepoints; None, rolled back, if one fails.

        Units almost never fail (a refusal is a result, not an error), and a savepoint and its
        release cost about a tenth of a disclosure's CPU; so the batch runs without them first.
        The audit entries the units append are held, then sealed and written in one statement
        before the commit: the log's lock is taken for that and the commit only, and a
        checkpoint that is due is made once for the batch (``after_written``).
        """
        values: list[Any] = []
        try:
            with (
                transaction(self._sessions) as session,
                entries_held(session, self._after_written),
            ):
                for unit in units:
                    try:
                        values.append(unit.context.run(unit.work, session))
                    except Exception as error:
                        raise _UnitFailed from error  # rolls the whole transaction back
        except _UnitFailed:
            return None
        return [(unit, True, value) for unit, value in zip(units, values, strict=True)]

    def _run_apart(self, units: list[_Unit]) -> list[tuple[_Unit, bool, Any]]:
        """Every unit again, each in a savepoint of its own: one that fails leaves nothing."""
        outcomes: list[tuple[_Unit, bool, Any]] = []
        with transaction(self._sessions) as session:
            for unit in units:
                try:
                    # The session's own savepoint, not a bare SAVEPOINT statement: a flush
                    # that fails rolls back to it instead of ending the whole transaction.
                    with session.begin_nested():
                        value = unit.context.run(unit.work, session)
                except Exception as error:  # rolled back to the unit's savepoint
                    outcomes.append((unit, False, error))
                else:
                    outcomes.append((unit, True, value))
        return outcomes

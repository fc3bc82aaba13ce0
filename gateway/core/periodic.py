"""A background thread that runs one job every so many seconds, and outlives its failures."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger("gateway.core.periodic")


class Periodic:
    """Runs ``job`` every ``interval`` seconds until stopped; a failing round is logged, and the
    next round tries again (a database hiccup must not end the job for the life of the process)."""

    def __init__(self, name: str, interval: float, job: Callable[[], object]) -> None:
        self._name, self._interval, self._job = name, interval, job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._job()
            except Exception as error:
                log.error("periodic job failed", job=self._name, exc_info=error)

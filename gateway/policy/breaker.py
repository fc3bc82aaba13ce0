"""A circuit breaker for the OPA server: once decisions time out or cannot connect (twice in a
row: one slow answer is no outage), the next ones are refused at once for a short cool-off,
instead of each waiting out its own time-out.

Without it a frozen OPA (accepting connections, never answering) makes every request wait the
full policy time-out, and requests queued for a worker thread wait for those before them too.
After the cool-off one decision is let through to try again (half-open); its success closes the
breaker, its failure starts a new cool-off. Refusing is failing closed: nothing is disclosed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Breaker:
    """Closed (decisions go through), open (refused at once), or half-open (one may try)."""

    def __init__(
        self,
        cooloff: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        failures_to_open: int = 2,
    ) -> None:
        self._cooloff = cooloff
        self._clock = clock
        self._failures_to_open = failures_to_open
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None
        self._trying = False

    def admit(self) -> bool:
        """May this decision go to OPA? While open, no; after the cool-off, one at a time."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._trying or self._clock() < self._open_until:
                return False
            self._trying = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._open_until, self._trying, self._failures = None, False, 0

    def failed(self) -> None:
        """A time-out or a refused connection: open for the cool-off from now once they repeat
        (a failed try after a cool-off opens it again at once)."""
        with self._lock:
            self._failures += 1
            if self._trying or self._failures >= self._failures_to_open:
                self._open_until = self._clock() + self._cooloff
            self._trying = False

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_until is not None

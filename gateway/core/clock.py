"""Injected time, so that expiry and replay rules are testable without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


def system_clock() -> datetime:
    return datetime.now(UTC)

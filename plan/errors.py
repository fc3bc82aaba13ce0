"""Plan errors; the gateway maps each to an HTTP problem."""

from __future__ import annotations


class PlanError(Exception):
    """Base of the plan package's errors."""


class PlanItemNotFound(PlanError):
    """No such goal or action for a participant the caller may reach."""


class SignalNotFound(PlanError):
    """No such involvement signal of the caller's party (another party's is 'not found')."""


class NotYours(PlanError):
    """The caller may reach the plan but not change this item (another party's action)."""


class StaleVersion(PlanError):
    """The item changed since the version the caller edited; read it again."""


class DirectorNotAllowed(PlanError):
    """The director cannot be assigned or handed over; ``reason`` is a stable code."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidPlanInput(PlanError):
    """A reference inside the request does not hold (e.g. an unknown goal)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class WebhookMessageNotFound(PlanError):
    """No dead-lettered webhook message with this id."""

"""Conference errors; the gateway maps each to an HTTP problem."""

from __future__ import annotations


class ConferenceError(Exception):
    """Base of the conference package's errors."""


class ConferenceNotFound(ConferenceError):
    """No such conference, or no such case on its agenda."""


class InvalidConference(ConferenceError):
    """A field of the request does not hold; ``field`` is its JSON Pointer below the body."""

    def __init__(self, message: str, *, field: str, valid: list[str] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.valid = valid


class ConferenceConflict(ConferenceError):
    """The request clashes with the conference as it stands (over, already on the agenda, a
    concurrent answer); ``reason`` is a stable code."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

"""Consent-registry errors; the gateway maps each to an HTTP problem."""

from __future__ import annotations


class ConsentError(Exception):
    """Base of the consent registry's errors."""


class ConsentNotFound(ConsentError):
    """No such consent for this participant (a consent of another participant is 'not found')."""


class ConsentClosed(ConsentError):
    """The consent was already revoked or superseded."""


class InvalidConsent(ConsentError):
    """The request names an unknown purpose, category or grantee, or an impossible period."""

    def __init__(self, message: str, *, field: str, valid: list[str] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.valid = valid

"""Domain errors of the gateway; ``gateway.problems`` maps each to an RFC 9457 response."""

from __future__ import annotations

from typing import Any

from gateway.core.db import KeptDespiteError


class GatewayError(Exception):
    """Base for errors the gateway answers with a problem document."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(GatewayError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(GatewayError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class InvalidInput(GatewayError):
    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class PayloadTooLarge(GatewayError):
    """The request body is over the gateway's limit (``SCHAKEL_MAX_BODY_BYTES``)."""

    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class ActingUserRequired(GatewayError):
    """A request that reads case data names no professional acting (NEN 7513)."""

    status = 400
    slug = "acting-user-required"
    title = "Acting professional required"


class ServiceUnavailable(GatewayError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class AuthenticationFailed(GatewayError):
    """401 with ``WWW-Authenticate``; ``error`` is the RFC 6749 §5.2 / RFC 6750 §3.1 code."""

    status = 401
    slug = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str, *, error: str, scheme: str = "Bearer") -> None:
        super().__init__(detail)
        self.error = error
        self.scheme = scheme


class Forbidden(GatewayError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"

    def __init__(
        self, detail: str, *, error: str = "insufficient_scope", **extensions: Any
    ) -> None:
        super().__init__(detail, **extensions)
        self.error = error


class ForbiddenOnRecord(Forbidden, KeptDespiteError):
    """A refusal whose audit entry is written: the transaction commits it, then 403 is answered."""


class NotFoundOnRecord(NotFound, KeptDespiteError):
    """A 404 whose denial is on record (a participant the caller may not reach)."""


class InvalidOnRecord(InvalidInput, KeptDespiteError):
    """A 422 whose denial is on record (a consent for another conference)."""


class ConflictOnRecord(Conflict, KeptDespiteError):
    """A 409 whose refusal is on record (a release beyond the privacy budget)."""


class ConferenceConflictOnRecord(ConflictOnRecord):
    """A conference's 409 (its window over, a party invited twice), answered as before and on
    record."""

    slug = "conference-conflict"


class PolicyEngineUnavailableOnRecord(ServiceUnavailable, KeptDespiteError):
    """The fail-closed 503 of an engine that could not decide, with its deny entry kept; the
    same problem as ``gateway.problems`` gives when no entry is written."""

    slug = "policy-engine-unavailable"
    title = "Policy engine unavailable"

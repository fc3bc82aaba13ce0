"""Errors of the adapters: each names where in the payload the fault is (FHIRPath, pointer, XPath)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PayloadFault:
    """One fault: a FHIRPath, JSON Pointer (RFC 6901) or XPath location, and what is wrong."""

    location: str
    detail: str


class PayloadError(Exception):
    """The payload cannot be taken in; nothing of it may be stored."""

    reason = "invalid-payload"

    def __init__(self, location: str, message: str, *, more: tuple[PayloadFault, ...] = ()) -> None:
        super().__init__(f"{location}: {message}")
        self.faults = (PayloadFault(location, message), *more)


class MalformedPayload(PayloadError):
    """Not well-formed at all (not JSON, not XML, nested beyond reason, forbidden DTD)."""

    reason = "malformed-payload"


class UnknownCode(PayloadError):
    """A code outside the value set the format documents."""

    reason = "unknown-code"

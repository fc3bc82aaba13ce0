"""Deletion-notice errors; the gateway maps each to an HTTP problem."""

from __future__ import annotations


class NoticeError(Exception):
    """Base of the notice package's errors."""


class NoticeNotFound(NoticeError):
    """No such notice addressed to the caller (another party's notice is 'not found')."""


class NoticeAlreadyAcknowledged(NoticeError):
    """The notice was acknowledged before; the first acknowledgement stands."""


class NoticeSuperseded(NoticeError):
    """A later notice covers this one; acknowledge that one."""

    def __init__(self, message: str, *, superseded_by: str) -> None:
        super().__init__(message)
        self.superseded_by = superseded_by


class UnknownGround(NoticeError):
    """A ground to keep data that the catalogue does not hold for the recipient's domain."""

    def __init__(self, message: str, *, valid: list[str]) -> None:
        super().__init__(message)
        self.valid = valid

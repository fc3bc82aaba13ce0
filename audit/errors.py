"""Errors of the audit package; the gateway maps each to an RFC 9457 problem."""

from __future__ import annotations


class AuditError(Exception):
    """Base for every error the audit package raises."""


class InvalidAuditQuery(AuditError):
    """A query the log cannot answer as asked (e.g. a period that ends before it starts)."""


class EntryNotFound(AuditError):
    """No entry with the requested sequence number."""


class AuditKeyError(AuditError):
    """A signing key or key set that cannot be used for audit checkpoints."""


class EmptyLog(AuditError):
    """A checkpoint was asked for a log without entries."""


class MalformedExport(AuditError):
    """An export file that does not follow docs/audit-format.md."""


class NotCheckpointed(AuditError):
    """No tree checkpoint covers the entry yet: its proof waits for the next one."""


class NoSuchCheckpoint(AuditError):
    """No tree checkpoint of the size asked for."""

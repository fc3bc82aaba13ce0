"""Signed checkpoints in the database: made when due or on demand, read for exports and checks.

What a signature covers is audit/checkpoint_format.py (docs/audit-format.md §4).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.append import COVERED_SEQ, AppendedEntry, Clock, head, known, lock_log, write_held
from audit.chain import format_timestamp
from audit.checkpoint_format import signing_input
from audit.errors import EmptyLog
from audit.keys import AuditSigningKey
from audit.models import AuditCheckpoint, AuditEntry
from dbtypes.rows import plain_rows


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The checkpoint with the highest seq, or None before the first."""
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
    ).first()


def create_checkpoint(
    *, session: Session, signing_key: AuditSigningKey, clock: Clock
) -> AuditCheckpoint:
    """Sign the current head of the log (idempotent: an existing checkpoint there is returned)."""
    lock_log(session)
    entry = head(session)
    if entry is None:
        raise EmptyLog("the audit log has no entries to checkpoint yet")
    existing = session.get(AuditCheckpoint, entry.seq)
    if existing is not None:
        return existing
    recorded_at = format_timestamp(entry.recorded_at)
    checkpoint = AuditCheckpoint(
        seq=entry.seq,
        entry_hash=entry.entry_hash,
        recorded_at=entry.recorded_at,
        signed_at=clock().astimezone(UTC),
        kid=signing_key.kid,
        signature=signing_key.sign(
            signing_input(seq=entry.seq, entry_hash=entry.entry_hash, recorded_at=recorded_at)
        ),
    )
    session.add(checkpoint)
    session.flush()
    kept = known(session)
    if kept is not None:  # every entry so far is signed now
        kept.oldest_known, kept.oldest_unsigned = True, None
    return checkpoint


def checkpoint_if_due(
    *,
    session: Session,
    signing_key: AuditSigningKey,
    clock: Clock,
    every_entries: int,
    every_seconds: float,
    newest: AuditEntry | AppendedEntry | None = None,
) -> AuditCheckpoint | None:
    """Checkpoint the head when ``every_entries`` entries are unsigned, or the oldest unsigned
    entry is ``every_seconds`` old. Call it after ``append_entry`` in the same transaction.

    ``newest`` is the entry that append_entry just returned: the head, read under the log's lock
    that this transaction still holds, so it need not be locked and read again.
    """
    if newest is None:
        lock_log(session)
        newest = head(session)
        if newest is None:
            return None
    kept = known(session)
    if kept is not None and kept.oldest_known:
        oldest = kept.oldest_unsigned
    else:
        oldest = _oldest_unsigned(session)
        if kept is not None:
            kept.oldest_known, kept.oldest_unsigned = True, oldest
    if oldest is None:
        return None
    oldest_seq, oldest_at = oldest
    unsigned = newest.seq - oldest_seq + 1
    waited = clock() - oldest_at
    if unsigned >= every_entries or waited >= timedelta(seconds=every_seconds):
        return create_checkpoint(session=session, signing_key=signing_key, clock=clock)
    return None


# Built once: it runs whenever a transaction does not know the oldest unsigned entry yet.
_OLDEST_UNSIGNED = select(AuditEntry.seq, AuditEntry.recorded_at).where(
    AuditEntry.seq == COVERED_SEQ + 1
)


def _oldest_unsigned(session: Session) -> tuple[int, datetime] | None:
    """(seq, recorded_at) of the first entry after the latest checkpoint, in one round trip
    (two when entries are held: they are written first)."""
    write_held(session)
    row = plain_rows(session, _OLDEST_UNSIGNED).first()
    return None if row is None else (row[0], row[1])


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """A checkpoint as in docs/audit-format.md."""
    return {
        "seq": checkpoint.seq,
        "entry_hash": checkpoint.entry_hash,
        "recorded_at": format_timestamp(checkpoint.recorded_at),
        "signed_at": format_timestamp(checkpoint.signed_at),
        "kid": checkpoint.kid,
        "signature": checkpoint.signature,
    }


def signed_through_head(session: Session) -> tuple[list[dict[str, Any]], int]:
    """Every checkpoint (as documents), and the seq of the head read after them (0: empty).

    Read in this order, each checkpoint was committed with or after the entry it signs, so the
    head covers every one of them, whatever was appended meanwhile. A checkpoint past the head
    therefore means entries were taken from the end of the log: readers keep it, so that the
    verification says so.
    """
    checkpoints = [checkpoint_document(checkpoint) for checkpoint in iter_checkpoints(session)]
    last = head(session)
    return checkpoints, last.seq if last is not None else 0


def iter_checkpoints(session: Session) -> Iterator[AuditCheckpoint]:
    """Every checkpoint in seq order."""
    yield from session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))

"""Signed checkpoints in the database: made when due or on demand, read for exports and checks.

A checkpoint the gateway signs now is a C2SP tlog-checkpoint (docs/audit-format.md §4.2): the
root of the Merkle tree over every entry so far, signed as a note under the log's origin;
witnesses' cosignatures are kept beside it and published with it. Checkpoints of version 1
(§4.1, audit/checkpoint_format.py) stay as they were signed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from audit.append import (
    COVERED_SEQ,
    AppendedEntry,
    Clock,
    Link,
    head,
    known,
    lock_log,
    write_held,
)
from audit.chain import format_timestamp
from audit.errors import EmptyLog
from audit.keys import AuditSigningKey, b64url
from audit.models import AuditBase, AuditCheckpoint, AuditCosignature, AuditEntry
from audit.note import Note, Signature, parse_note, sign_note
from audit.tlog import Checkpoint
from audit.tree import Frontier, root_and_edge
from dbtypes.rows import plain_rows

_COSIGNATURES = AuditBase.metadata.tables[AuditCosignature.__tablename__]


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The checkpoint with the highest seq, or None before the first."""
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
    ).first()


def latest_tree_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The newest version 2 checkpoint (a tree head), or None before the first."""
    return session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.note.is_not(None))
        .order_by(AuditCheckpoint.seq.desc())
        .limit(1)
    ).first()


def tree_checkpoint_with_cosignatures(
    session: Session, seq: int | None = None
) -> tuple[AuditCheckpoint, list[str]] | None:
    """A version 2 checkpoint (the one of ``seq`` entries, or the newest) and the cosignature
    lines kept for it, in one statement: every proof names one."""
    found = tree_checkpoints_with_cosignatures(session, None if seq is None else [seq])
    return next(iter(found.values()), None)


def tree_checkpoints_with_cosignatures(
    session: Session, seqs: list[int] | None
) -> dict[int, tuple[AuditCheckpoint, list[str]]]:
    """The version 2 checkpoints of these tree sizes (None: the newest), each with the
    cosignature lines kept for it, in one statement."""
    newest = (
        select(func.max(AuditCheckpoint.seq)).where(AuditCheckpoint.note.is_not(None))
    ).scalar_subquery()
    rows = session.execute(
        select(AuditCheckpoint, AuditCosignature.line)
        .outerjoin(AuditCosignature, AuditCosignature.seq == AuditCheckpoint.seq)
        .where(
            AuditCheckpoint.note.is_not(None),
            AuditCheckpoint.seq == newest if seqs is None else AuditCheckpoint.seq.in_(seqs),
        )
        .order_by(AuditCheckpoint.seq, AuditCosignature.witness, AuditCosignature.key_id)
    ).all()
    found: dict[int, tuple[AuditCheckpoint, list[str]]] = {}
    for checkpoint, line in rows:
        lines = found.setdefault(checkpoint.seq, (checkpoint, []))[1]
        if line is not None:
            lines.append(line)
    return found


def tree_checkpoint(session: Session, seq: int) -> AuditCheckpoint | None:
    """The version 2 checkpoint of tree size ``seq``, if one was signed."""
    found = session.get(AuditCheckpoint, seq)
    return found if found is not None and found.note is not None else None


def create_checkpoint(
    *,
    session: Session,
    signing_key: AuditSigningKey,
    clock: Clock,
    origin: str,
    frontier: Frontier | None = None,
) -> AuditCheckpoint:
    """Sign the current head of the log as a tree checkpoint of ``origin`` (idempotent: an
    existing checkpoint there is returned). The tree's kept nodes are brought up to the head
    first; with a ``frontier`` the root is extended from the last checkpoint's edge, reading
    only the entries since."""
    lock_log(session)
    entry = head(session)
    if entry is None:
        raise EmptyLog("the audit log has no entries to checkpoint yet")
    existing = session.get(AuditCheckpoint, entry.seq)
    if existing is not None:
        return existing
    root, edge = root_and_edge(session, entry.seq, entry.entry_hash, frontier)
    note = sign_note(Checkpoint(origin, entry.seq, root).text, origin, signing_key.private_key)
    checkpoint = AuditCheckpoint(
        seq=entry.seq,
        entry_hash=entry.entry_hash,
        recorded_at=entry.recorded_at,
        signed_at=clock().astimezone(UTC),
        kid=signing_key.kid,
        signature=b64url(note.signatures[0].payload),
        root_hash=root.hex(),
        note=str(note),
    )
    session.add(checkpoint)
    session.flush()
    if frontier is not None:
        frontier.keep_after_commit(session, edge)
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
    origin: str,
    newest: AuditEntry | AppendedEntry | Link | None = None,
    frontier: Frontier | None = None,
) -> AuditCheckpoint | None:
    """Checkpoint the head when ``every_entries`` entries are unsigned, or the oldest unsigned
    entry is ``every_seconds`` old. Call it after ``append_entry`` in the same transaction.

    ``newest`` is the entry that append_entry just returned, or the newest that held entries
    wrote: the head, written under the log's lock that this transaction still holds, so it need
    not be locked and read again.
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
        return create_checkpoint(
            session=session, signing_key=signing_key, clock=clock, origin=origin, frontier=frontier
        )
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


def checkpoint_document(
    checkpoint: AuditCheckpoint, cosignatures: Iterable[str] = ()
) -> dict[str, Any]:
    """A checkpoint as in docs/audit-format.md §4: version 1 as signed; version 2 as its note,
    with the cosignature lines witnesses returned after the log's signature."""
    if checkpoint.note is None:
        return {
            "seq": checkpoint.seq,
            "entry_hash": checkpoint.entry_hash,
            "recorded_at": format_timestamp(checkpoint.recorded_at),
            "signed_at": format_timestamp(checkpoint.signed_at),
            "kid": checkpoint.kid,
            "signature": checkpoint.signature,
        }
    return {
        "seq": checkpoint.seq,
        "signed_at": format_timestamp(checkpoint.signed_at),
        "note": str(published_note(checkpoint, cosignatures)),
    }


def published_note(checkpoint: AuditCheckpoint, cosignatures: Iterable[str] = ()) -> Note:
    """A version 2 checkpoint's note with the witnesses' cosignatures after the log's."""
    if checkpoint.note is None:
        raise ValueError(f"the checkpoint at seq {checkpoint.seq} is of version 1: no note")
    note = parse_note(checkpoint.note)
    return note.with_signatures(tuple(Signature.parse(line) for line in cosignatures))


def cosignatures_of(session: Session, seqs: Iterable[int] | None = None) -> dict[int, list[str]]:
    """The cosignature lines kept per checkpoint seq (all, or those of ``seqs``)."""
    statement = select(AuditCosignature.seq, AuditCosignature.line).order_by(
        AuditCosignature.seq, AuditCosignature.witness, AuditCosignature.key_id
    )
    if seqs is not None:
        statement = statement.where(AuditCosignature.seq.in_(list(seqs)))
    found: dict[int, list[str]] = {}
    for seq, line in session.execute(statement):
        found.setdefault(seq, []).append(line)
    return found


def keep_cosignatures(
    session: Session, seq: int, cosignatures: Iterable[tuple[Signature, int]]
) -> None:
    """Keep witnesses' cosignatures (each with the time it names) of the checkpoint at ``seq``;
    one kept already stays as it was."""
    rows = [
        {
            "seq": seq,
            "witness": signature.name,
            "key_id": signature.key_id.hex(),
            "line": signature.line.rstrip("\n"),
            "cosigned_at": datetime.fromtimestamp(timestamp, UTC),
        }
        for signature, timestamp in cosignatures
    ]
    if not rows:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(_COSIGNATURES).on_conflict_do_nothing(), rows)


def signed_through_head(session: Session) -> tuple[list[dict[str, Any]], int]:
    """Every checkpoint (as documents), and the seq of the head read after them (0: empty).

    Read in this order, each checkpoint was committed with or after the entry it signs, so the
    head covers every one of them, whatever was appended meanwhile. A checkpoint past the head
    therefore means entries were taken from the end of the log: readers keep it, so that the
    verification says so.
    """
    cosigned = cosignatures_of(session)
    checkpoints = [
        checkpoint_document(checkpoint, cosigned.get(checkpoint.seq, ()))
        for checkpoint in iter_checkpoints(session)
    ]
    last = head(session)
    return checkpoints, last.seq if last is not None else 0


def iter_checkpoints(session: Session) -> Iterator[AuditCheckpoint]:
    """Every checkpoint in seq order."""
    yield from session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))

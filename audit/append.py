"""The one way into the log: append an entry under the log's lock, in the caller's transaction.

Functions add and flush; the caller's transaction commits, so no entry outlives the action it
records and no action outlives a failed append. Reading the log is audit/query.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, aliased

from audit.chain import GENESIS_HASH, format_timestamp, seal_with_jcs
from audit.fields import FORMAT_VERSION
from audit.models import AuditCheckpoint, AuditEntry, entries_table
from audit.schemas import AuditDraft
from dbtypes.kept import kept_for_transaction
from dbtypes.rows import plain_rows

Clock = Callable[[], datetime]

# pg_advisory_xact_lock key that serialises appends ("SCHKAUDT" in ASCII).
APPEND_LOCK_KEY = 0x5343484B41554454


@dataclass
class Known:
    """What one transaction has learnt of the log while it holds the log's lock.

    Nobody else appends meanwhile, so the entry it appended last is the head, and the oldest
    entry no checkpoint covers stays the oldest until a checkpoint is made. Kept outside
    savepoints only: a savepoint may be rolled back, so inside one nothing is kept and what was
    kept before is dropped. ``held`` is a list while appends are held (``entries_held``): the
    entries appended and not yet written, in order, each not yet sealed.
    """

    locked: bool = False
    head: Link | None = None
    oldest_known: bool = False
    oldest_unsigned: tuple[int, datetime] | None = None  # None when known: all are signed
    held: list[HeldEntry] | None = None


class Link(NamedTuple):
    """What the next entry needs of the head: its place, its hash and its time."""

    seq: int
    entry_hash: str
    recorded_at: datetime


class HeldEntry(NamedTuple):
    """An entry appended while entries are held: its fields and its time, its place not yet
    given (it gets one, and its links, when written)."""

    fields: dict[str, Any]
    moment: datetime


_KNOWN = "audit.known"


@dataclass(frozen=True, slots=True)
class AppendedEntry:
    """An entry as append_entry wrote it, without an ORM object to build: its place, its time,
    its links and the entry document (docs/audit-format.md §1)."""

    seq: int
    recorded_at: datetime
    prev_hash: str
    entry_hash: str
    document: dict[str, Any]


def known(session: Session) -> Known | None:
    """This transaction's knowledge of the log; None (and forgotten) inside a savepoint.

    Entries still held cannot be forgotten: the savepoint could be rolled back while they stay,
    or an entry appended in it take their place in the chain. That is refused.
    """
    if session.in_nested_transaction():
        kept = session.info.get(_KNOWN)
        if kept is not None and kept[1].held:
            raise RuntimeError(
                "audit entries are held for this transaction: no savepoint may append"
            )
        session.info.pop(_KNOWN, None)
        return None
    return kept_for_transaction(session, _KNOWN, Known)


@contextmanager
def entries_held(
    session: Session, after_written: Callable[[Session, Link], None] | None = None
) -> Iterator[None]:
    """Hold the entries appended in the block; at its end take the log's lock, seal them and
    write them in one statement, then call ``after_written`` with the newest entry.

    The log's lock is the one serial point of every writer of the log (several gateway
    processes on one PostgreSQL): held, a batch of appends takes it for its INSERT and commit
    only, not while the rest of the batch is read and decided, and pays one round trip for all
    its entries instead of one each. An entry keeps the time it was appended (never before its
    predecessor's, as always) and gets its place and links when written; it is durable only
    when the transaction commits, as before. A reader of the log in the block (the head, the
    checkpoint's) writes what is held first. ``after_written`` is where a checkpoint that is due
    is made, once for the block. Queries, exports and verification read in transactions of
    their own, never in such a block. Appending inside a savepoint is refused (see ``known``).
    One database error in the final INSERT fails every append of the block, and the caller's
    transaction with it: nothing is committed without its entry. Should the block fail, the
    held entries are dropped with all the transaction knew of the log: the caller rolls the
    transaction back. Inside a savepoint, or outside a transaction, nothing is held.
    """
    kept = known(session)
    if kept is None or kept.held is not None:
        yield
        return
    kept.held = []
    head_before = kept.head
    try:
        yield
    except BaseException:
        session.info.pop(_KNOWN, None)
        raise
    write_held(session)
    kept.held = None
    if after_written is not None and kept.head is not None and kept.head is not head_before:
        after_written(session, kept.head)


def write_held(session: Session) -> None:
    """Seal the entries this transaction holds and write them in one statement, under the
    log's lock; before reading the log."""
    kept = known(session)
    if kept is None or not kept.held:
        return
    lock_log(session)
    newest = kept.head if kept.head is not None else _read_head(session, kept)
    rows = []
    for held in kept.held:
        _, row = _sealed(held.fields, held.moment, newest)
        newest = Link(row["seq"], row["entry_hash"], row["recorded_at"])
        rows.append(row)
    session.connection().execute(_INSERT, rows)
    kept.held.clear()
    assert newest is not None  # at least one entry was held
    _learn(kept, rows[0], newest)


def lock_log(session: Session) -> None:
    """Serialise writers of the log until the caller's transaction ends.

    PostgreSQL takes a transaction-scoped advisory lock, once per transaction; SQLite needs none
    because the gateway opens every transaction with BEGIN IMMEDIATE, which already holds the
    database's write lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    kept = known(session)
    if kept is not None and kept.locked:
        return
    plain_rows(session, _APPEND_LOCK)
    if kept is not None:
        kept.locked = True


_APPEND_LOCK = select(func.pg_advisory_xact_lock(APPEND_LOCK_KEY))
# Built once: every append asks for the head, and building a statement cost more than running it.
_HEAD = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)
# Checkpoints cover the log from its first entry through this seq (0: none yet).
COVERED_SEQ = select(func.coalesce(func.max(AuditCheckpoint.seq), 0)).scalar_subquery()
# The append needs three columns of the head, not the entry (its stored bytes included); the
# oldest entry no checkpoint covers comes in the same round trip, for the checkpoint that is
# due after the append or not.
_NEWEST = (
    select(AuditEntry.seq, AuditEntry.entry_hash, AuditEntry.recorded_at)
    .order_by(AuditEntry.seq.desc())
    .limit(1)
    .subquery("newest")
)
_OLDEST_UNSIGNED = aliased(AuditEntry, name="oldest_unsigned")
_LINK = (
    select(
        _NEWEST.c.seq,
        _NEWEST.c.entry_hash,
        _NEWEST.c.recorded_at,
        _OLDEST_UNSIGNED.seq.label("oldest_seq"),
        _OLDEST_UNSIGNED.recorded_at.label("oldest_at"),
    )
    .select_from(_NEWEST)
    .outerjoin(_OLDEST_UNSIGNED, _OLDEST_UNSIGNED.seq == COVERED_SEQ + 1)
)
_INSERT = insert(entries_table)


def head(session: Session) -> AuditEntry | None:
    """The entry with the highest seq, or None on an empty log."""
    write_held(session)
    return session.scalars(_HEAD).first()


def append_entry(*, session: Session, draft: AuditDraft, clock: Clock) -> AppendedEntry | None:
    """Add the next link of the chain in the caller's transaction (written, never committed);
    None while entries are held, the entry then getting its place when written (see
    ``entries_held``).

    seq is gap-free from 1; recorded_at never goes back, even if the clocks of two gateways
    disagree, so that the order of seq and the order of time are the same. The row is written
    by one INSERT (the ORM's unit of work cost a third of an append); the entry returned holds
    its values, not an ORM object (building one cost a twentieth of a disclosure).
    """
    now = clock()
    if now.tzinfo is None:
        raise ValueError("the audit clock must return an aware UTC datetime")
    now = now.astimezone(UTC)
    kept = known(session)
    if kept is not None and kept.held is not None:
        kept.held.append(HeldEntry(draft.model_dump(mode="json"), now))
        return None
    lock_log(session)
    previous = kept.head if kept is not None and kept.head is not None else None
    if previous is None:
        previous = _read_head(session, kept)
    document, row = _sealed(draft.model_dump(mode="json"), now, previous)
    session.connection().execute(_INSERT, row)
    if kept is not None:
        _learn(kept, row, Link(row["seq"], row["entry_hash"], row["recorded_at"]))
    return AppendedEntry(row["seq"], row["recorded_at"], row["prev_hash"], row["entry_hash"],
                         document)  # fmt: skip


def _sealed(
    fields: dict[str, Any], moment: datetime, previous: Link | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The entry after ``previous`` as its document and its row: its place, its time (not
    before its predecessor's), its links and the stored bytes of what was hashed."""
    if previous is not None and moment < previous.recorded_at:
        moment = previous.recorded_at
    document, jcs = seal_with_jcs(
        {
            **fields,
            "seq": 1 if previous is None else previous.seq + 1,
            "recorded_at": format_timestamp(moment),
            "prev_hash": GENESIS_HASH if previous is None else previous.entry_hash,
        }
    )
    row = {**document, "recorded_at": moment, "canonical": jcs.decode(), "version": FORMAT_VERSION}
    return document, row


def _learn(kept: Known, first: dict[str, Any], newest: Link) -> None:
    """What the transaction knows after writing entries from ``first`` to ``newest``."""
    kept.head = newest
    if kept.oldest_known and kept.oldest_unsigned is None:
        kept.oldest_unsigned = (first["seq"], first["recorded_at"])


def _read_head(session: Session, kept: Known | None) -> Link | None:
    """The head of the log as written; what the transaction keeps learns the oldest unsigned."""
    found = plain_rows(session, _LINK).first()
    if kept is not None and not kept.oldest_known:
        kept.oldest_known = True
        if found is not None and found.oldest_seq is not None:
            kept.oldest_unsigned = (found.oldest_seq, found.oldest_at)
    return None if found is None else Link(found.seq, found.entry_hash, found.recorded_at)

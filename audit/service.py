"""Appending to the log and reading it back. Functions write; the caller's transaction commits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Text,
    cast,
    func,
    insert,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased

from audit.chain import GENESIS_HASH, format_timestamp, seal_with_jcs
from audit.errors import EntryNotFound
from audit.models import AuditBase, AuditCheckpoint, AuditEntry
from audit.schemas import AuditDraft, AuditQuery, DailyStatistic
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
    rows sealed and not yet written, in seq order.
    """

    locked: bool = False
    head: Link | None = None
    oldest_known: bool = False
    oldest_unsigned: tuple[int, datetime] | None = None  # None when known: all are signed
    held: list[dict[str, Any]] | None = None


class Link(NamedTuple):
    """What the next entry needs of the head: its place, its hash and its time."""

    seq: int
    entry_hash: str
    recorded_at: datetime


_KNOWN = "audit.known"


@dataclass(frozen=True, slots=True)
class AppendedEntry:
    """An entry as append_entry wrote it: the row's values, without an ORM object to build."""

    seq: int
    recorded_at: datetime
    trace_id: str | None
    actor_party: str
    actor_domain: str
    action: str
    subject_ref: str | None
    purpose: str | None
    categories: list[str]
    consent_ids: list[str]
    decision_id: str | None
    policy_revision: str | None
    outcome: str
    reason: str | None
    payload_digest: str | None
    prev_hash: str
    entry_hash: str
    canonical: str


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
def entries_held(session: Session) -> Iterator[None]:
    """Hold the entries appended in the block and write them in one statement at its end.

    Every INSERT was a round trip in which the appender waited for the database; held, the
    entries of a batch of appends cost one. Nothing else changes: each entry is sealed when it
    is appended, with its place and predecessor known to the transaction, and is durable only
    when the transaction commits, as before. The readers an append meets (the head, the
    checkpoint's) write what is held first; queries, exports and verification read in
    transactions of their own, never in such a block. Appending inside a savepoint is refused
    (see ``known``). One database error in the final INSERT fails every append of the block,
    and the caller's transaction with it: nothing is committed without its entry. Should the
    block fail, the held entries are dropped with all the transaction knew of the log: the
    caller rolls the transaction back. Inside a savepoint, or outside a transaction, nothing is
    held.
    """
    kept = known(session)
    if kept is None or kept.held is not None:
        yield
        return
    kept.held = []
    try:
        yield
    except BaseException:
        session.info.pop(_KNOWN, None)
        raise
    write_held(session)
    kept.held = None


def write_held(session: Session) -> None:
    """Write the entries this transaction holds, in one statement; before reading the log."""
    kept = known(session)
    if kept is not None and kept.held:
        session.connection().execute(_INSERT, kept.held)
        kept.held.clear()


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
_INSERT = insert(AuditBase.metadata.tables[AuditEntry.__tablename__])


def head(session: Session) -> AuditEntry | None:
    """The entry with the highest seq, or None on an empty log."""
    write_held(session)
    return session.scalars(_HEAD).first()


def append_entry(*, session: Session, draft: AuditDraft, clock: Clock) -> AppendedEntry:
    """Add the next link of the chain in the caller's transaction (written or held, never
    committed: see ``entries_held``).

    seq is gap-free from 1; recorded_at never goes back, even if the clocks of two gateways
    disagree, so that the order of seq and the order of time are the same. The row is written
    by one INSERT (the ORM's unit of work cost a third of an append); the entry returned holds
    its values, not an ORM object (building one cost a twentieth of a disclosure).
    """
    lock_log(session)
    kept = known(session)
    previous = kept.head if kept is not None and kept.head is not None else None
    if previous is None:
        previous = _read_head(session, kept)
    now = clock()
    if now.tzinfo is None:
        raise ValueError("the audit clock must return an aware UTC datetime")
    now = now.astimezone(UTC)
    if previous is not None and now < previous.recorded_at:
        now = previous.recorded_at
    fields = {
        **draft.model_dump(mode="json"),
        "seq": 1 if previous is None else previous.seq + 1,
        "recorded_at": format_timestamp(now),
        "prev_hash": GENESIS_HASH if previous is None else previous.entry_hash,
    }
    document, jcs = seal_with_jcs(fields)
    row = {**document, "recorded_at": now, "canonical": jcs.decode()}
    if kept is not None and kept.held is not None:
        kept.held.append(row)
    else:
        session.connection().execute(_INSERT, row)
    if kept is not None:
        kept.head = Link(row["seq"], row["entry_hash"], now)
        if kept.oldest_known and kept.oldest_unsigned is None:
            kept.oldest_unsigned = (row["seq"], now)
    return AppendedEntry(**row)


def _read_head(session: Session, kept: Known | None) -> Link | None:
    """The head of the log as written; what the transaction keeps learns the oldest unsigned."""
    found = plain_rows(session, _LINK).first()
    if kept is not None and not kept.oldest_known:
        kept.oldest_known = True
        if found is not None and found.oldest_seq is not None:
            kept.oldest_unsigned = (found.oldest_seq, found.oldest_at)
    return None if found is None else Link(found.seq, found.entry_hash, found.recorded_at)


def entry_document(entry: AuditEntry) -> dict[str, Any]:
    """The entry as in docs/audit-format.md: the hashed members plus ``entry_hash``."""
    return {
        "seq": entry.seq,
        "recorded_at": format_timestamp(entry.recorded_at),
        "trace_id": entry.trace_id,
        "actor_party": entry.actor_party,
        "actor_domain": entry.actor_domain,
        "action": entry.action,
        "subject_ref": entry.subject_ref,
        "purpose": entry.purpose,
        "categories": list(entry.categories),
        "consent_ids": list(entry.consent_ids),
        "decision_id": entry.decision_id,
        "policy_revision": entry.policy_revision,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "payload_digest": entry.payload_digest,
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
    }


def find_documents(
    *, session: Session, query: AuditQuery
) -> tuple[list[dict[str, Any]], int | None]:
    """As :func:`find_entries`, as entry documents read from plain rows (no ORM objects).

    The officer API answers every search this way: it is the hot path of an audit query. Rows
    are read as :func:`iter_documents` reads them; an unusual one goes through the ORM.
    """
    columns = _document_columns(session.get_bind().dialect.name)
    statement = _filtered(query).with_only_columns(*columns).limit(query.limit + 1)
    documents = [
        _row_document(row) or entry_document(entry_by_seq(session, row[0]))
        for row in session.execute(statement)
    ]
    if len(documents) > query.limit:
        documents = documents[: query.limit]
        return documents, documents[-1]["seq"]
    return documents, None


def entry_by_seq(session: Session, seq: int) -> AuditEntry:
    """One entry by its sequence number; EntryNotFound when there is none."""
    entry = session.get(AuditEntry, seq)
    if entry is None:
        raise EntryNotFound(f"no audit entry with seq {seq}")
    return entry


def _filtered(query: AuditQuery) -> Select[AuditEntry]:
    statement = select(AuditEntry).where(AuditEntry.seq > query.after_seq)
    if query.before_seq is not None:
        statement = statement.where(AuditEntry.seq < query.before_seq)
    if query.subject_ref is not None:
        statement = statement.where(AuditEntry.subject_ref == query.subject_ref)
    if query.party is not None:
        statement = statement.where(AuditEntry.actor_party == query.party)
    if query.action is not None:
        statement = statement.where(AuditEntry.action == query.action)
    if query.purpose is not None:
        statement = statement.where(AuditEntry.purpose == query.purpose)
    if query.outcome is not None:
        statement = statement.where(AuditEntry.outcome == query.outcome.value)
    if query.recorded_from is not None:
        statement = statement.where(AuditEntry.recorded_at >= query.recorded_from)
    if query.recorded_until is not None:
        statement = statement.where(AuditEntry.recorded_at < query.recorded_until)
    if query.hide_queries_by is not None:
        statement = statement.where(
            or_(AuditEntry.action != "audit.query", AuditEntry.actor_party != query.hide_queries_by)
        )
    return statement.order_by(AuditEntry.seq.desc() if query.newest_first else AuditEntry.seq)


def find_entries(*, session: Session, query: AuditQuery) -> tuple[list[AuditEntry], int | None]:
    """One page of matching entries in seq order (keyset pagination) and the cursor of the next:
    ``after_seq``, or ``before_seq`` when the query asks for the newest first."""
    rows = list(session.scalars(_filtered(query).limit(query.limit + 1)))
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        return rows, rows[-1].seq
    return rows, None


def iter_entries(*, session: Session, query: AuditQuery, batch: int = 1000) -> Iterator[AuditEntry]:
    """Every matching entry after ``query.after_seq`` in seq order, read in batches (no limit)."""
    after = query.after_seq
    while True:
        page = query.model_copy(update={"after_seq": after})
        rows = list(session.scalars(_filtered(page).limit(batch)))
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def iter_documents(
    *, session: Session, through: int, batch: int = 10_000
) -> Iterator[dict[str, Any]]:
    """``entry_document`` of every entry up to seq ``through``, in seq order, read as plain rows.

    Verifying a large log spends most of its time here, so rows are streamed as tuples, the
    timestamp is written by the database and the JSON columns are parsed by orjson. A row this
    cannot turn into exactly what ``entry_document`` gives (a timestamp or a JSON value stored
    in an unusual form) sends the rest of the log through the ORM, as entry_document reads it.
    """
    statement = (
        select(*_document_columns(session.get_bind().dialect.name))
        .where(AuditEntry.seq <= through)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=batch)
    )
    last = 0
    for rows in session.execute(statement).partitions():
        for row in rows:
            document = _row_document(row)
            if document is None:
                yield from _orm_documents(session=session, after=last, through=through)
                return
            last = document["seq"]
            yield document


def _document_columns(dialect: str) -> list[ColumnElement[Any]]:
    table = AuditEntry.__table__.c
    recorded_at: ColumnElement[Any]
    categories: ColumnElement[Any]
    consent_ids: ColumnElement[Any]
    if dialect == "postgresql":
        recorded_at = func.to_char(
            func.timezone("UTC", table.recorded_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
        )
        categories, consent_ids = cast(table.categories, Text), cast(table.consent_ids, Text)
    else:  # SQLite keeps the text SQLAlchemy wrote, "YYYY-MM-DD HH:MM:SS.ffffff"
        stored = type_coerce(table.recorded_at, String)
        recorded_at = func.substr(stored, 1, 10) + "T" + func.substr(stored, 12) + "Z"
        categories = type_coerce(table.categories, String)
        consent_ids = type_coerce(table.consent_ids, String)
    return [
        table.seq,
        type_coerce(recorded_at, String),
        table.trace_id,
        table.actor_party,
        table.actor_domain,
        table.action,
        table.subject_ref,
        table.purpose,
        type_coerce(categories, String),
        type_coerce(consent_ids, String),
        table.decision_id,
        table.policy_revision,
        table.outcome,
        table.reason,
        table.payload_digest,
        table.prev_hash,
        table.entry_hash,
    ]


def _row_document(row: Any) -> dict[str, Any] | None:
    """The row as ``entry_document`` would give it, or None where the two could differ."""
    (seq, recorded_at, trace_id, actor_party, actor_domain, action, subject_ref, purpose,
     categories, consent_ids, decision_id, policy_revision, outcome, reason, payload_digest,
     prev_hash, entry_hash) = row  # fmt: skip
    # Years before 1000 are written with fewer digits by format_timestamp (strftime).
    if type(seq) is not int or not _STORED_TIMESTAMP.fullmatch(recorded_at or ""):
        return None
    try:
        categories, consent_ids = orjson.loads(categories), orjson.loads(consent_ids)
    except (orjson.JSONDecodeError, TypeError):
        return None
    if type(categories) is not list or type(consent_ids) is not list:
        return None
    return {
        "seq": seq,
        "recorded_at": recorded_at,
        "trace_id": trace_id,
        "actor_party": actor_party,
        "actor_domain": actor_domain,
        "action": action,
        "subject_ref": subject_ref,
        "purpose": purpose,
        "categories": categories,
        "consent_ids": consent_ids,
        "decision_id": decision_id,
        "policy_revision": policy_revision,
        "outcome": outcome,
        "reason": reason,
        "payload_digest": payload_digest,
        "prev_hash": prev_hash,
        "entry_hash": entry_hash,
    }


_STORED_TIMESTAMP = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"
)


def _orm_documents(*, session: Session, after: int, through: int) -> Iterator[dict[str, Any]]:
    for entry in iter_entries(session=session, query=AuditQuery(after_seq=after)):
        if entry.seq <= through:
            yield entry_document(entry)


def daily_statistics(*, session: Session, query: AuditQuery) -> list[DailyStatistic]:
    """Entries per acting party per UTC day, split by outcome, for the matching entries."""
    counts: dict[tuple[Any, str], dict[str, int]] = {}
    for entry in iter_entries(session=session, query=query):
        key = (entry.recorded_at.astimezone(UTC).date(), entry.actor_party)
        by_outcome = counts.setdefault(key, {})
        by_outcome[entry.outcome] = by_outcome.get(entry.outcome, 0) + 1
    return [
        DailyStatistic(day=day, party=party, entries=sum(outcomes.values()), by_outcome=outcomes)
        for (day, party), outcomes in sorted(counts.items())
    ]

"""Appending to the log and reading it back. Functions flush; the caller's transaction commits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from audit.chain import GENESIS_HASH, format_timestamp, seal
from audit.errors import EntryNotFound
from audit.models import AuditEntry
from audit.schemas import AuditDraft, AuditQuery, DailyStatistic, EntryView

Clock = Callable[[], datetime]

# pg_advisory_xact_lock key that serialises appends ("SCHKAUDT" in ASCII).
APPEND_LOCK_KEY = 0x5343484B41554454


def lock_log(session: Session) -> None:
    """Serialise writers of the log until the caller's transaction ends.

    PostgreSQL takes a transaction-scoped advisory lock; SQLite needs none because the gateway
    opens every transaction with BEGIN IMMEDIATE, which already holds the database's write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(APPEND_LOCK_KEY)))


def head(session: Session) -> AuditEntry | None:
    """The entry with the highest seq, or None on an empty log."""
    return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()


def append_entry(*, session: Session, draft: AuditDraft, clock: Clock) -> AuditEntry:
    """Add the next link of the chain in the caller's transaction (flushed, never committed).

    seq is gap-free from 1; recorded_at never goes back, even if the clocks of two gateways
    disagree, so that the order of seq and the order of time are the same.
    """
    lock_log(session)
    previous = head(session)
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
    document = seal(fields)
    entry = AuditEntry(**{**document, "recorded_at": now})
    session.add(entry)
    session.flush()
    return entry


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


def entry_view(entry: AuditEntry) -> EntryView:
    return EntryView(**entry_document(entry))


def entry_by_seq(session: Session, seq: int) -> AuditEntry:
    """One entry by its sequence number; EntryNotFound when there is none."""
    entry = session.get(AuditEntry, seq)
    if entry is None:
        raise EntryNotFound(f"no audit entry with seq {seq}")
    return entry


def _filtered(query: AuditQuery) -> Select[AuditEntry]:
    statement = select(AuditEntry).where(AuditEntry.seq > query.after_seq)
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
    return statement.order_by(AuditEntry.seq)


def find_entries(*, session: Session, query: AuditQuery) -> tuple[list[AuditEntry], int | None]:
    """One page of matching entries in seq order (keyset pagination) and the next ``after_seq``."""
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

"""Reading the log back: officers' searches, a participant's history, documents for exports and
verification. Nothing here writes; appending is audit/append.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, String, Text, cast, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.chain import format_timestamp
from audit.errors import EntryNotFound
from audit.fields import BY_NAME, DOCUMENT_FIELDS, VERSIONS, Kind, document_fields, of_kind
from audit.models import AuditEntry
from audit.schemas import AuditQuery, DailyStatistic

_TIMESTAMPS = of_kind(Kind.TIMESTAMP)
# The members an entry of each format version lacks.
_LATER = {
    version: tuple(set(DOCUMENT_FIELDS) - set(document_fields(version))) for version in VERSIONS
}
_TEXTS = of_kind(Kind.TEXTS)


def entry_document(entry: AuditEntry) -> dict[str, Any]:
    """The entry as in docs/audit-format.md: the hashed members of its version plus
    ``entry_hash``."""
    document = {name: getattr(entry, name) for name in document_fields(entry.version)}
    for name in _TIMESTAMPS:
        document[name] = format_timestamp(document[name])
    for name in _TEXTS:
        document[name] = list(document[name])
    return document


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
    if query.actor_user is not None:
        statement = statement.where(AuditEntry.actor_user == query.actor_user)
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
    if query.within is not None:
        statement = statement.where(
            or_(
                AuditEntry.actor_party == query.within.party,
                AuditEntry.subject_ref.in_(sorted(query.within.subject_refs)),
            )
        )
    if query.hide_queries_by is not None:
        statement = statement.where(
            or_(
                AuditEntry.action != Action.AUDIT_QUERY.value,
                AuditEntry.actor_party != query.hide_queries_by,
            )
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
    *, session: Session, through: int, after: int = 0, batch: int = 10_000
) -> Iterator[dict[str, Any]]:
    """``entry_document`` of every entry after seq ``after`` up to seq ``through``, in seq order,
    read as plain rows.

    Verifying a large log spends most of its time here, so rows are streamed as tuples, the
    timestamp is written by the database and the JSON columns are parsed by orjson. A row this
    cannot turn into exactly what ``entry_document`` gives (a timestamp or a JSON value stored
    in an unusual form) sends the rest of the log through the ORM, as entry_document reads it.
    """
    statement = (
        select(*_document_columns(session.get_bind().dialect.name))
        .where(AuditEntry.seq > after, AuditEntry.seq <= through)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=batch)
    )
    last = after
    for rows in session.execute(statement).partitions():
        for row in rows:
            document = _row_document(row)
            if document is None:
                yield from _orm_documents(session=session, after=last, through=through)
                return
            last = document["seq"]
            yield document


def _document_columns(dialect: str) -> list[ColumnElement[Any]]:
    """The columns of an entry document, as text the database writes in the document's form,
    and last the entry's format version."""
    return [*(_written(name, dialect) for name in DOCUMENT_FIELDS), AuditEntry.__table__.c.version]


def _written(name: str, dialect: str) -> ColumnElement[Any]:
    column = AuditEntry.__table__.c[name]
    kind = BY_NAME[name].kind
    if kind is Kind.TIMESTAMP and dialect == "postgresql":
        utc = func.timezone("UTC", column)
        return type_coerce(func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), String)
    if (
        kind is Kind.TIMESTAMP
    ):  # SQLite keeps the text SQLAlchemy wrote: "YYYY-MM-DD HH:MM:SS.ffffff"
        stored = type_coerce(column, String)
        return type_coerce(func.substr(stored, 1, 10) + "T" + func.substr(stored, 12) + "Z", String)
    if kind is Kind.TEXTS and dialect == "postgresql":
        return type_coerce(cast(column, Text), String)
    if kind is Kind.TEXTS:
        return type_coerce(column, String)
    return column


def _row_document(row: Any) -> dict[str, Any] | None:
    """The row as ``entry_document`` would give it, or None where the two could differ. A JSON
    column that holds no JSON stays text (``entry_document`` cannot read such a row)."""
    *values, version = row
    document = dict(zip(DOCUMENT_FIELDS, values, strict=True))
    if type(document["seq"]) is not int or version not in VERSIONS:
        return None
    for name in _LATER.get(version, ()):
        del document[name]
    # Years before 1000 are written with fewer digits by format_timestamp (strftime).
    if not all(_STORED_TIMESTAMP.fullmatch(document[name] or "") for name in _TIMESTAMPS):
        return None
    for name in _TEXTS:
        stored = document[name]
        try:
            value = orjson.loads(stored)
        except orjson.JSONDecodeError:
            # Not JSON (the ORM would raise): the text stays, and the rules of §8 find the
            # member of the wrong form, so verifying reports the entry instead of failing.
            continue
        except TypeError:
            return None
        if type(value) is not list:
            return None
        document[name] = value
    return document


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

"""Verify the log as stored in the database, as quickly as its stored JCS bytes allow.

Each entry keeps the JCS bytes its entry_hash was taken over (column ``canonical``). The quick
reading hashes those bytes as they are, from the genesis hash on, and parses only the entries
that checkpoints sign (SignedPoints, as for an export written by the gateway). It also holds
every row's columns against its bytes, since the columns are what queries filter on and what
officers and participants read; a row the database cannot call equal (a JSON value or a
timestamp stored in another spelling) is compared in Python. On SQLite, Python walks the bytes
while a second connection compares the columns in one statement. On PostgreSQL the database
does both, range by range on two connections: an entry's bytes behind the entry_hash stored for
the entry before it must hash to its own entry_hash, which row by row is the same walk.

The entries after the last checkpoint are read as documents and held to every rule of §8. The
entries' hashes build the Merkle tree as they are read, so the entries are read once: on SQLite
in the walk itself, on PostgreSQL range by range while the database checks the ranges. Version
2 checkpoints are held against its roots, and the tree's kept nodes (audit/tree.py), which
proofs are made of, against it.

Anything else unexpected sends the log through the careful reading, ``verify_log`` over the
documents the columns give, which decides the report. When that reading finds the columns sound
but the quick one did not, the first entry whose stored bytes are not the JCS of its columns is
reported; a kept tree node that the entries do not give is reported after either reading.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import BigInteger, Engine, LargeBinary, bindparam, cast, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from audit.chain import canonical_json
from audit.checkpoint import signed_through_head
from audit.driver_sql import apart, committed_through, compiled, driver_parameters
from audit.models import AuditEntry
from audit.query import entry_document, iter_documents
from audit.stored_jcs import sqlite_disagreeing
from audit.verify import (
    PROGRESS_EVERY,
    Progress,
    SignedPoints,
    Trusted,
    VerifyReport,
    follows,
    verify_log,
)
from audit.verify_postgresql import check_in_postgresql, signed_entry
from audit.verify_tree import TreeCheck, TreePass, cycle_collection_paused, tree_pass

BATCH = 10_000
# More rows than this that the database cannot call equal: the careful reading decides.
MAX_SPELLED_OTHERWISE = 1000


def verify_database(
    *,
    session: Session,
    jwks: Mapping[str, Any],
    progress: Progress | None = None,
    trusted: Trusted | None = None,
) -> VerifyReport:
    """Verify the log as stored, up to the head seen when the check starts; a checkpoint past
    it (see ``signed_through_head``) is reported, as is any checkpoint note ``trusted`` keeps
    from outside that the log no longer holds."""
    trusted = trusted or Trusted()
    checkpoints, through = signed_through_head(session)
    report, tree = None, None
    if not trusted.outside:  # notes from outside are read the careful way
        quick = _quick_reading(session, through, checkpoints, jwks, progress, trusted)
        if quick is not None:
            report, tree = quick
            report = report if tree.roots_hold else None  # with tree checkpoints
    if report is None:
        report = verify_log(
            iter_documents(session=session, through=through),
            checkpoints,
            jwks,
            progress=progress,
            trusted=trusted,
        )
        if not report.ok:
            return report
        seq = _first_stored_mismatch(session, through)
        if seq is not None:
            return _failed(report, seq, "the stored JCS bytes are not those of the entry's columns")
        tree = tree_pass(session, through, None)
    assert tree is not None  # built by whichever reading decided
    wrong = tree.wrong_node
    if wrong is not None:
        level, index = wrong
        first, last = index << level, ((index + 1) << level) - 1
        return _failed(
            report,
            first + 1,
            f"the kept tree node at level {level}, index {index} is not the tree hash of "
            f"entries {first + 1} to {last + 1}: proofs made from it would not verify",
        )
    return report


def _failed(report: VerifyReport, seq: int, problem: str) -> VerifyReport:
    return VerifyReport(
        ok=False,
        entries=report.entries,
        checkpoints=report.checkpoints,
        last_seq=report.last_seq,
        verified_through=min(report.verified_through, seq - 1),
        first_bad_seq=seq,
        problem=problem,
        witnessed=report.witnessed,
    )


def _quick_reading(
    session: Session,
    through: int,
    checkpoints: Sequence[Mapping[str, Any]],
    jwks: Mapping[str, Any],
    progress: Progress | None,
    trusted: Trusted,
) -> tuple[VerifyReport, TreePass] | None:
    """The report when every check but the tree's roots passes the quick way, with what the
    tree pass found; None when the careful reading must decide."""
    points = SignedPoints.of(checkpoints, jwks, trusted)
    if points is None or any(seq > through for seq in points.by_seq):
        return None  # the careful reading reports a checkpoint past the end of the log
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    tree = TreeCheck(session, points)
    if engine.dialect.name == "postgresql":
        spelled_otherwise = check_in_postgresql(
            session, through, points, tree, progress, limit=MAX_SPELLED_OTHERWISE
        )
    elif engine.url.database in (None, "", ":memory:"):  # one connection only: one after another
        spelled_otherwise = _spelled_otherwise(session.connection().connection, engine, through)
        if _hash_stored_bytes(session, through, points, tree, progress) != through:
            return None
    else:
        with ThreadPoolExecutor(1, thread_name_prefix="audit-columns") as pool:
            pending = pool.submit(_spelled_otherwise_apart, engine, through)
            entries = _hash_stored_bytes(session, through, points, tree, progress)
            spelled_otherwise = pending.result()
        if entries != through:
            return None
    if spelled_otherwise is None:
        return None
    for seq in spelled_otherwise:
        if not _stored_bytes_match_columns(session.get_one(AuditEntry, seq)):
            return None
    if not _tail_follows(session, points.last_signed, through):
        return None
    found = tree.finish()
    report = points.report(through)  # after the tree pass: it confirms the tree checkpoints
    return None if report is None else (report, found)


def _tail_follows(session: Session, last_signed: int, through: int) -> bool:
    """Every entry no checkpoint signs passes each rule of §8 (see SignedPoints)."""
    if last_signed >= through:
        return True  # a checkpoint signs every entry
    previous: dict[str, Any] | None = None
    for document in iter_documents(session=session, through=through, after=last_signed - 1):
        if document["seq"] > last_signed and not follows(document, previous):
            return False
        previous = document
    return True


def _hash_stored_bytes(
    session: Session,
    through: int,
    points: SignedPoints,
    tree: TreeCheck,
    progress: Progress | None,
) -> int | None:
    """The number of entries when each one's stored bytes hash to its entry_hash, else None;
    the hashes go into the tree as they are checked, so the entries are read once."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    statement = compiled(engine, "stored bytes", _stored_bytes)
    # The DBAPI cursor of the session's own connection: the same transaction, and rows as plain
    # tuples of the stored bytes, without a str made of each entry only to be encoded again.
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(str(statement), driver_parameters(statement, {"through": through}))
        with cycle_collection_paused():
            return _walk(cursor, points, tree, progress)
    finally:
        cursor.close()


def _stored_bytes() -> ClauseElement:
    return (
        select(AuditEntry.seq, cast(AuditEntry.canonical, LargeBinary), AuditEntry.entry_hash)
        .where(AuditEntry.seq <= bindparam("through", type_=BigInteger))
        .order_by(AuditEntry.seq)
    )


def _walk(
    cursor: Any, points: SignedPoints, tree: TreeCheck, progress: Progress | None
) -> int | None:
    """Each row's bytes hashed behind the entry_hash stored before it, a batch at a time.

    Every row whose bytes hash to its own stored entry_hash, the first behind the genesis hash:
    that is the walk from the genesis hash, with each batch's hashing in one comprehension.
    """
    count = 0
    previous = bytes(32)
    signed = sorted(points.entry_seqs, reverse=True)
    report_at = PROGRESS_EVERY
    while rows := cursor.fetchmany(BATCH):
        seqs, stored, hashes = zip(*rows, strict=True)
        if seqs != tuple(range(count + 1, count + 1 + len(rows))):
            return None
        digests = _chained(previous, stored, hashes)
        if digests is None:
            return None
        while signed and signed[-1] <= count + len(rows):
            seq = signed.pop()
            at = seq - count - 1
            entry = signed_entry(stored[at], hashes[at]) if at >= 0 else None
            if not points.confirm(seq, entry):
                return None
        tree.add(digests)
        previous = digests[-1]
        count += len(rows)
        if progress is not None and count >= report_at:
            progress(count)
            report_at = count - count % PROGRESS_EVERY + PROGRESS_EVERY
    return count


def _chained(previous: bytes, stored: Sequence[bytes], hashes: Sequence[str]) -> list[bytes] | None:
    """The 32-byte entry hashes of these rows when each row's stored bytes, behind the stored
    hash of the row before it (``previous`` for the first), hash to its own stored entry_hash."""
    sha256 = hashlib.sha256
    try:
        before = [previous, *map(bytes.fromhex, hashes[:-1])]
        digests = [
            sha256(hash_ + data).digest() for hash_, data in zip(before, stored, strict=True)
        ]
    except (TypeError, ValueError):  # a hash that is not hex, bytes that are not bytes
        return None
    return digests if tuple(map(bytes.hex, digests)) == tuple(hashes) else None


def _spelled_otherwise_apart(engine: Engine, through: int) -> list[int] | None:
    """:func:`_spelled_otherwise` on a connection of its own, once it sees every entry."""

    def work(connection: Any) -> list[int] | None:
        if not committed_through(connection, through):
            return None
        return _spelled_otherwise(connection, engine, through)

    return apart(engine, work)


def _spelled_otherwise(dbapi_connection: Any, engine: Engine, through: int) -> list[int] | None:
    """The seqs whose columns SQLite cannot call equal to their stored bytes.

    None when there are too many to compare one by one, or when SQLite refuses the statement.
    """
    statement = compiled(engine, "columns", sqlite_disagreeing)
    values = {"through": through, "limit": MAX_SPELLED_OTHERWISE + 1}
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(str(statement), driver_parameters(statement, values))
        seqs = [seq for (seq,) in cursor.fetchall()]
    except engine.dialect.loaded_dbapi.Error:
        return None
    finally:
        cursor.close()
    return None if len(seqs) > MAX_SPELLED_OTHERWISE else seqs


def _stored_bytes_match_columns(entry: AuditEntry) -> bool:
    document = entry_document(entry)
    del document["entry_hash"]
    return entry.canonical.encode() == canonical_json(document)


def _first_stored_mismatch(session: Session, through: int) -> int | None:
    """The first seq whose stored bytes are not the JCS of its columns (careful, entry by entry)."""
    statement = (
        select(AuditEntry.seq, AuditEntry.canonical)
        .where(AuditEntry.seq <= through)
        .order_by(AuditEntry.seq)
    )
    stored = session.connection().execution_options(yield_per=BATCH).execute(statement)
    for document, (seq, canonical) in zip(
        iter_documents(session=session, through=through), stored, strict=False
    ):
        del document["entry_hash"]
        if document["seq"] != seq or canonical.encode() != canonical_json(document):
            return int(seq)
    return None

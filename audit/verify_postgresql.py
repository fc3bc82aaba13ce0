"""Verify the stored log on PostgreSQL: the database checks the chain and the columns itself,
range by range on connections of its own, while the tree takes each range's entry hashes here.

Each entry's stored bytes, behind the entry_hash stored for the entry before it, must hash to
its own entry_hash: row by row that is the walk from the genesis hash, so the database can
check the rows in any order and in parallel.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from sqlalchemy import BigInteger, Engine, bindparam, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement, Select

from audit.chain import GENESIS_HASH
from audit.driver_sql import apart, committed_through, compiled, driver_parameters
from audit.models import AuditEntry
from audit.stored_jcs import postgresql_jcs
from audit.verify import PROGRESS_EVERY, Progress, SignedPoints
from audit.verify_tree import BATCH, TreeCheck, cycle_collection_paused

# This many ranges of entries are checked at a time, each on a connection of its own.
CONNECTIONS = 2


def check_in_postgresql(
    session: Session,
    through: int,
    points: SignedPoints,
    tree: TreeCheck,
    progress: Progress | None,
    *,
    limit: int,
) -> list[int] | None:
    """The chain and the columns checked by PostgreSQL itself, a range of entries at a time,
    while the entries' hashes go into the tree here.

    Returns the seqs (at most ``limit``) whose columns need a comparison in Python, or None
    where the careful reading must decide.
    """
    # The rows are chained in seq order, so a gap must be found apart: seq 1..through, each once.
    first, count = session.execute(
        select(func.min(AuditEntry.seq), func.count()).where(AuditEntry.seq <= through)
    ).one()
    if first != (1 if through else None) or count != through:
        return None
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    if not apart(engine, lambda connection: committed_through(connection, through)):
        return None
    # Enough ranges for every connection, even in a small log.
    size = min(PROGRESS_EVERY, max(1, -(-through // CONNECTIONS)))
    ranges = [(start, min(start + size - 1, through)) for start in range(1, through + 1, size)]
    spelled_otherwise: list[int] = []
    hashes = _hashes_into(session, engine, tree)
    # Committed entries never change, so other connections may check ranges side by side.
    with ThreadPoolExecutor(CONNECTIONS, thread_name_prefix="audit-ranges") as pool:
        checked = pool.map(_range_rows(engine, limit), ranges)
        for (start, end), rows in zip(ranges, checked, strict=True):
            # The tree takes this range's hashes while the database checks it and the next.
            if not hashes(start, end) or rows is None or not all(c for _, c in rows):
                return None
            spelled_otherwise += [seq for seq, _ in rows]
            if len(spelled_otherwise) > limit:
                return None
            if progress is not None:
                progress(end)
    connection = session.connection()
    for seq in sorted(points.entry_seqs):
        row = connection.execute(
            select(AuditEntry.canonical, AuditEntry.entry_hash).where(AuditEntry.seq == seq)
        ).first()
        if row is None or not points.confirm(seq, signed_entry(row.canonical, row.entry_hash)):
            return None
    return spelled_otherwise


def _range_rows(
    engine: Engine, limit: int
) -> Callable[[tuple[int, int]], list[tuple[int, bool]] | None]:
    statement = compiled(engine, "range check", lambda: postgresql_range_check(0, 0, 0))

    def check(bounds: tuple[int, int]) -> list[tuple[int, bool]] | None:
        start, end = bounds
        values = {"start": start, "end": end, "limit": limit + 1}
        try:
            with engine.connect() as connection:
                rows = connection.exec_driver_sql(
                    str(statement), driver_parameters(statement, values)
                ).all()
        except DBAPIError:  # stored bytes or a hash the database cannot read
            return None
        return [(seq, chained) for seq, chained in rows]

    return check


def postgresql_range_check(start: int, end: int, limit: int) -> Select[Any]:
    """Rows of seq start..end that do not chain, or whose columns are not their stored bytes
    (at most ``limit``).

    The entry before each one is the row before it in seq order (a window over start - 1..end,
    one ordered scan); a missing entry leaves the next one behind the wrong hash. The bounds
    and the limit are bound parameters, so the statement is compiled once.
    """
    table = AuditEntry.__table__
    first = bindparam("start", start, type_=BigInteger)
    last = bindparam("end", end, type_=BigInteger)
    entry = (
        select(*table.c, func.lag(table.c.entry_hash).over(order_by=table.c.seq).label("before"))
        .where(table.c.seq.between(first - 1, last))
        .subquery("entry")
    )
    previous = func.decode(func.coalesce(entry.c.before, GENESIS_HASH), "hex")
    digest = func.sha256(previous.op("||")(func.convert_to(entry.c.canonical, "UTF8")))
    chained = func.encode(digest, "hex") == entry.c.entry_hash
    columns = postgresql_jcs(entry.c)
    return (
        select(entry.c.seq, chained)
        .where(entry.c.seq >= first, ~chained | (entry.c.canonical != columns))
        .limit(bindparam("limit", limit))
    )


def _hashes_into(session: Session, engine: Engine, tree: TreeCheck) -> Callable[[int, int], bool]:
    """Put the entries' hashes as stored, seq start..end, into the tree, range after range in
    seq order; False for a hash that is not hex (the database checks that each one chains)."""
    statement = compiled(engine, "entry hashes", _entry_hashes)
    connection = session.connection().connection
    fromhex = bytes.fromhex

    def add(start: int, end: int) -> bool:
        cursor = connection.cursor()
        try:
            cursor.execute(
                str(statement), driver_parameters(statement, {"start": start, "end": end})
            )
            with cycle_collection_paused():
                while rows := cursor.fetchmany(BATCH):
                    tree.add([fromhex(entry_hash) for (entry_hash,) in rows])
        except (TypeError, ValueError):
            return False
        finally:
            cursor.close()
        return True

    return add


def _entry_hashes() -> ClauseElement:
    seq = AuditEntry.seq
    return (
        select(AuditEntry.entry_hash)
        .where(
            seq.between(bindparam("start", type_=BigInteger), bindparam("end", type_=BigInteger))
        )
        .order_by(seq)
    )


def signed_entry(canonical: str | bytes, entry_hash: str) -> Any:
    """The entry a checkpoint signs, from its stored bytes and entry_hash (None: not an entry)."""
    try:
        entry = orjson.loads(canonical)
    except orjson.JSONDecodeError:
        return None
    return {**entry, "entry_hash": entry_hash} if isinstance(entry, dict) else None

"""The tree in the database (audit/tree.py) gives the roots and proofs of RFC 9162 over the
entries' hashes, from a few reads, before and after its kept nodes are added."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from audit.append import append_entry
from audit.keys import AuditSigningKey
from audit.merkle import (
    consistency_spans,
    inclusion_spans,
    leaf_hash,
    perfect_root,
    root_from_leaves,
    span_hashes,
    span_nodes,
    verify_consistency,
    verify_inclusion,
)
from audit.models import AuditEntry, AuditTreeNode
from audit.tree import (
    STRIDE,
    KeptTiles,
    NodeReader,
    _kept_statement,
    consistency_proof,
    extend_tree,
    inclusion_proof,
    root_at,
)
from gateway.core.db import transaction
from tests.audit.conftest import draft
from tests.support import SettableClock

_KEY = AuditSigningKey.generate()
SIZE = 600  # past two blocks of 256, so level 8 is kept and level 16 is not yet


@pytest.fixture
def filled(sessions: sessionmaker[Session]) -> list[bytes]:
    """SIZE entries; their leaf hashes."""
    clock = SettableClock()
    with transaction(sessions) as session:
        entries = [append_entry(session=session, draft=draft(), clock=clock) for _ in range(SIZE)]
    return [leaf_hash(bytes.fromhex(entry.entry_hash)) for entry in entries]


def _expected(leaves: list[bytes], spans: list[tuple[int, int]]) -> list[bytes]:
    nodes = {
        (level, index): root_from_leaves(leaves[index << level : (index + 1) << level])
        for level, index in span_nodes(spans)
    }
    return span_hashes(spans, nodes)


SAMPLE = [(1, 1), (1, 2), (256, 256), (257, 300), (1, SIZE), (300, SIZE), (SIZE, SIZE), (512, 513)]


@pytest.mark.parametrize("kept", [False, True], ids=["from leaves", "from kept nodes"])
def test_roots_and_proofs_are_those_of_the_tree_over_the_entries(
    sessions: sessionmaker[Session], filled: list[bytes], kept: bool
) -> None:
    with transaction(sessions) as session:
        if kept:
            assert extend_tree(session, SIZE) == SIZE >> STRIDE
        for size in (1, 2, 255, 256, 257, 511, 512, SIZE):
            assert root_at(session, size) == root_from_leaves(filled[:size])
        for seq, size in SAMPLE:
            path = inclusion_proof(session, seq, size)
            assert path == _expected(filled, inclusion_spans(seq - 1, size))
            verify_inclusion(seq - 1, size, filled[seq - 1], path, root_from_leaves(filled[:size]))
        for old, new in [(1, SIZE), (256, 512), (300, 555), (512, SIZE), (7, 7)]:
            proof = consistency_proof(session, old, new)
            assert proof == _expected(filled, consistency_spans(old, new))
            verify_consistency(
                old, new, root_from_leaves(filled[:old]), root_from_leaves(filled[:new]), proof
            )


def test_kept_nodes_are_added_once_in_order(
    sessions: sessionmaker[Session], filled: list[bytes]
) -> None:
    with transaction(sessions) as session:
        assert extend_tree(session, 300) == 1
        assert extend_tree(session, SIZE) == 1  # the second block; the first is kept already
        assert extend_tree(session, SIZE) == 0
        kept = session.execute(select(AuditTreeNode.idx, AuditTreeNode.hash)).all()
    assert [(index, bytes(hash_)) for index, hash_ in sorted(kept)] == [
        (0, root_from_leaves(filled[:256])),
        (1, root_from_leaves(filled[256:512])),
    ]


def test_a_proof_reads_a_handful_of_statements(
    sessions: sessionmaker[Session], filled: list[bytes]
) -> None:
    with transaction(sessions) as session:
        extend_tree(session, SIZE)
    seen: list[str] = []
    with transaction(sessions) as session:
        connection = session.connection()
        event.listen(connection, "before_cursor_execute", lambda *a: seen.append(a[2]))
        inclusion_proof(session, 3, SIZE)
    reads = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, reads  # every kept level and the leaves in one statement


def test_the_kept_nodes_refuse_change(sessions: sessionmaker[Session], filled: list[bytes]) -> None:
    with transaction(sessions) as session:
        extend_tree(session, SIZE)
    with pytest.raises(Exception, match="append-only"), transaction(sessions) as session:
        session.execute(text("UPDATE audit_tree_nodes SET hash = hash"))
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(AuditTreeNode)) == 2
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == SIZE


def test_the_migration_keeps_the_nodes_of_a_log_written_before_it(database_url: str) -> None:
    """audit_0005 adds the kept nodes of the entries already there; version 1 entries verify."""
    from alembic import command

    from audit.chain import GENESIS_HASH, format_timestamp, seal_with_jcs
    from audit.keys import publish_jwks
    from audit.models import entries_table
    from audit.tree import kept_sizes
    from audit.verify_database import verify_database
    from gateway.core.db import make_engine, make_sessionmaker, read_transaction
    from gateway.migrations.runner import alembic_config, upgrade_to_head

    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "audit_0004")
    clock, previous, rows, leaves = SettableClock(), GENESIS_HASH, [], []
    for seq in range(1, 520):
        clock.advance(1)
        fields = {**draft().model_dump(mode="json"), "seq": seq, "prev_hash": previous,
                  "recorded_at": format_timestamp(clock())}  # fmt: skip
        document, jcs = seal_with_jcs(fields, version=1)
        previous = document["entry_hash"]
        rows.append({**document, "recorded_at": clock(), "canonical": jcs.decode()})
        leaves.append(leaf_hash(bytes.fromhex(previous)))
    columns = {c.name for c in entries_table.c} - {"version", "actor_user"}
    with engine.begin() as connection:
        connection.execute(
            entries_table.insert(), [{k: v for k, v in row.items() if k in columns} for row in rows]
        )
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine)
    with read_transaction(sessions) as session:
        assert kept_sizes(session) == {8: 2}
        assert root_at(session, 519) == root_from_leaves(leaves)
        assert verify_database(session=session, jwks=publish_jwks(_KEY)).ok
    engine.dispose()


def test_the_next_checkpoint_extends_the_last_ones_edge_and_keeps_the_nodes_it_completes(
    sessions: sessionmaker[Session],
) -> None:
    from datetime import UTC, datetime

    from audit.checkpoint import create_checkpoint
    from audit.tree import Frontier, kept_sizes

    clock, frontier, leaves = SettableClock(), Frontier(), []

    def append(count: int) -> None:
        with transaction(sessions) as session:
            for _ in range(count):
                entry = append_entry(session=session, draft=draft(), clock=clock)
                leaves.append(leaf_hash(bytes.fromhex(entry.entry_hash)))

    def sign() -> bytes:
        with transaction(sessions) as session:
            signed = create_checkpoint(session=session, signing_key=_KEY, clock=clock,
                                       origin="t/audit", frontier=frontier)  # fmt: skip
            return bytes.fromhex(signed.root_hash or "")

    append(300)
    assert sign() == root_from_leaves(leaves)  # from the kept nodes: no edge yet
    assert frontier.edge is not None and frontier.edge.size == 300
    append(250)
    assert sign() == root_from_leaves(leaves)  # from the edge: 250 entries read
    assert frontier.edge.size == 550  # type: ignore[union-attr]
    with transaction(sessions) as session:
        assert kept_sizes(session) == {STRIDE: 2}
        assert root_at(session, 550) == root_from_leaves(leaves)
    append(10)
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        create_checkpoint(session=session, signing_key=_KEY, clock=lambda: datetime.now(UTC),
                          origin="t/audit", frontier=frontier)  # fmt: skip
        raise RuntimeError("the transaction fails after the checkpoint")
    assert frontier.edge.size == 550  # type: ignore[union-attr]
    assert sign() == root_from_leaves(leaves)


def _statements_of(session: Session) -> list[str]:
    seen: list[str] = []
    event.listen(session.connection(), "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_tiles_kept_in_memory_give_what_the_database_holds_and_only_complete_ones_are_kept(
    sessions: sessionmaker[Session],
) -> None:
    # One complete tile at level 8 (256 nodes) and part of the next; above the leaves only, so
    # no entries are needed (the hashes are not those of any leaves, which the reader ignores).
    stored = {(8, index): hashlib.sha256(index.to_bytes(4, "big")).digest() for index in range(300)}
    with transaction(sessions) as session:
        session.execute(
            insert(AuditTreeNode),
            [{"level": lv, "idx": ix, "hash": hash_} for (lv, ix), hash_ in stored.items()],
        )
    asks = [(16, 0), (15, 1), (9, 130), (8, 299), (10, 73), (12, 17)]
    tiles = KeptTiles()
    with transaction(sessions) as session:
        from_database = NodeReader(session).hashes(asks)
        assert NodeReader(session, tiles).hashes(asks) == from_database
        assert tiles.get(8, 0) == b"".join(stored[(8, index)] for index in range(256))
        assert tiles.get(8, 1) is None  # 44 of 256 nodes: more will come, so it is not kept
        seen = _statements_of(session)
        assert NodeReader(session, tiles).hashes(asks) == from_database
        assert len(seen) == 1  # the incomplete tile is read again
        inside = [(15, 0), (9, 3), (10, 63)]
        expected = NodeReader(session).hashes(inside)
        seen.clear()
        assert NodeReader(session, tiles).hashes(inside) == expected
        assert seen == []  # all in the kept tile
    assert from_database[(16, 0)] == perfect_root([stored[(8, index)] for index in range(256)])


def test_kept_tiles_forget_the_least_recently_used() -> None:
    tiles = KeptTiles(capacity=2)
    tile = bytes(32 * 256)
    for number in range(3):
        tiles.put(8, number, tile)
        if number == 1:
            assert tiles.get(8, 0) == tile  # used: now the most recent
    assert tiles.get(8, 1) is None
    assert tiles.get(8, 0) == tile
    assert tiles.get(8, 2) == tile
    with pytest.raises(ValueError, match="256 hashes"):
        tiles.put(8, 3, bytes(32))


def test_the_entries_hashes_a_proof_reads_come_from_an_index_alone(
    audit_engine: Engine, filled: list[bytes]
) -> None:
    """A tile of entries' hashes is read from the index on (seq, entry_hash), never from the
    entries' rows (scattered over many pages of a large log). PostgreSQL is told to prefer no
    scan of the table, as it does on a large log; SQLite chooses the index itself."""
    bounds = {"from_0_0": 1, "to_0_0": 200, "from_0_1": 202, "to_0_1": 256}
    statement = _kept_statement(((0, 2),)).params(**bounds)
    sql = str(
        statement.compile(dialect=audit_engine.dialect, compile_kwargs={"literal_binds": True})
    )
    with audit_engine.begin() as connection:
        if audit_engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            connection.execute(text("SET LOCAL enable_bitmapscan = off"))
            plan = [row[0] for row in connection.execute(text(f"EXPLAIN {sql}"))]
            scans = [line for line in plan if "Scan" in line]
            expected = "Index Only Scan using ix_audit_entries_seq_entry_hash"
        else:
            plan = [row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
            scans = [line for line in plan if "audit_entries" in line]
            expected = "USING COVERING INDEX ix_audit_entries_seq_entry_hash"
    assert len(scans) == 2, plan
    assert all(expected in line for line in scans), plan

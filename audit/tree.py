"""The log's Merkle tree in the database (RFC 9162 §2.1; the leaf of entry seq is its entry_hash's
32 bytes, leaf index seq - 1): roots and proofs answered from a few reads.

Like the tiles of C2SP tlog-tiles (height 8), the tree keeps every perfect subtree at levels 8,
16, 24, … (``audit_tree_nodes``) and nothing in between; the leaves are the entries' own
hashes. Any subtree is then at most 255 kept hashes (or leaves) below the nearest kept level,
so a proof at a million entries reads a few hundred rows in a handful of statements and hashes
them, whatever the size of the log. Nodes are added when a checkpoint is signed and by the
background timer; they are a function of the entries, so adding one twice changes nothing.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Executable,
    LargeBinary,
    Select,
    SmallInteger,
    String,
    bindparam,
    event,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    Node,
    consistency_spans,
    fold,
    inclusion_spans,
    leaf_hash,
    perfect_root,
    span_hashes,
    span_nodes,
    subtrees,
)
from audit.models import AuditBase, AuditEntry, AuditTreeNode

STRIDE = 8  # kept levels are multiples of this (tlog-tiles' tile height)
TILE = 1 << STRIDE  # hashes in a tile
HASH_SIZE = 32
# At most this many leaves are hashed into new kept nodes in one statement's worth of rows.
EXTEND_BATCH = 1 << 16

_NODES = AuditBase.metadata.tables[AuditTreeNode.__tablename__]


def leaf_of(entry_hash: str) -> bytes:
    """The leaf hash of an entry: SHA-256(0x00 || the 32 bytes of its entry_hash)."""
    return leaf_hash(bytes.fromhex(entry_hash))


class KeptTiles:
    """Complete tiles of kept nodes (256 consecutive hashes of a kept level above the leaves),
    as read from the database, up to ``capacity`` of them (the least recently used go first).

    A complete tile is a function of entries that never change, so it stays true; with the
    tiles above the leaves in memory, a proof reads only the one tile of entries' hashes it
    needs. A million entries make 15 complete tiles at level 8, of 8 KiB each.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._capacity = capacity
        self._tiles: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, level: int, tile: int) -> bytes | None:
        """The tile's 256 hashes, concatenated, if kept."""
        with self._lock:
            hashes = self._tiles.get((level, tile))
            if hashes is not None:
                self._tiles.move_to_end((level, tile))
            return hashes

    def put(self, level: int, tile: int, hashes: bytes) -> None:
        """Keep a complete tile (256 hashes, concatenated), forgetting the least recently used."""
        if len(hashes) != TILE * HASH_SIZE:
            raise ValueError(f"a tile holds {TILE} hashes")
        with self._lock:
            self._tiles[(level, tile)] = hashes
            self._tiles.move_to_end((level, tile))
            while len(self._tiles) > self._capacity:
                self._tiles.popitem(last=False)


class NodeReader:
    """Hashes of perfect subtrees, each folded from the nearest kept level below it.

    A subtree at level L is built from 2**(L - K) hashes of kept level K = L - L % 8 (level 0:
    the entries' leaf hashes); every hash a request needs, at every kept level, is read in one
    statement. A kept node that is missing (not yet added) is built from the level below it.
    """

    def __init__(self, session: Session, tiles: KeptTiles | None = None) -> None:
        self._session = session
        self._tiles = tiles

    def hashes(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        """The hash of every perfect subtree asked for."""
        by_base: dict[int, list[Node]] = {}
        for level, index in set(nodes):
            by_base.setdefault(level - level % STRIDE, []).append((level, index))
        spans = {
            base: _merged(
                (index << (level - base), (index + 1) << (level - base)) for level, index in group
            )
            for base, group in by_base.items()
        }
        kept = self._kept(spans)
        found: dict[Node, bytes] = {}
        for base, group in by_base.items():
            at = kept[base]
            for level, index in group:
                start = index << (level - base)
                found[(level, index)] = perfect_root(
                    [at[i] for i in range(start, start + (1 << (level - base)))]
                )
        return found

    def _kept(self, spans: dict[int, list[tuple[int, int]]]) -> dict[int, dict[int, bytes]]:
        """Hashes at each kept level by index, for its spans (end excluded): from the tiles
        kept in memory where they are, the rest in one statement."""
        kept: dict[int, dict[int, bytes]] = {base: {} for base in spans}
        wanted: dict[int, list[tuple[int, int]]] = {}
        for base, ranges in spans.items():
            if base == 0 or self._tiles is None:
                wanted[base] = ranges
                continue
            unread = []
            for start, end in ranges:
                for tile in range(start >> STRIDE, ((end - 1) >> STRIDE) + 1):
                    first = tile << STRIDE
                    hashes = self._tiles.get(base, tile)
                    if hashes is None:
                        unread.append((first, first + TILE))
                        continue
                    for index in range(max(start, first), min(end, first + TILE)):
                        offset = (index - first) * HASH_SIZE
                        kept[base][index] = hashes[offset : offset + HASH_SIZE]
            if unread:
                wanted[base] = _merged(unread)
        if wanted:
            self._read(wanted, kept)
        missing = [
            (base, index)
            for base, ranges in spans.items()
            if base
            for start, end in ranges
            for index in range(start, end)
            if index not in kept[base]
        ]
        if missing:  # not added yet: built from the level below
            for (base, index), hash_ in self.build(missing).items():
                kept[base][index] = hash_
        return kept

    def _read(
        self, wanted: dict[int, list[tuple[int, int]]], kept: dict[int, dict[int, bytes]]
    ) -> None:
        """Read the ranges of each level into ``kept``; complete tiles read are kept in memory."""
        shape = tuple((base, len(ranges)) for base, ranges in sorted(wanted.items()))
        bounds = {  # level 0 is read from the entries: entry seq is leaf index + 1
            f"{edge}_{base}_{number}": value + (base == 0)
            for base, ranges in wanted.items()
            for number, (start, end) in enumerate(ranges)
            for edge, value in (("from", start), ("to", end - 1))
        }
        rows = self._session.execute(_kept_statement(shape), bounds).all()
        for level, index, hex_hash, hash_ in rows:
            kept[level][index] = leaf_of(hex_hash) if level == 0 else bytes(hash_)
        if self._tiles is None:
            return
        for base, ranges in wanted.items():
            if base == 0:
                continue
            at = kept[base]
            for start, end in ranges:
                for first in range(start, end, TILE):
                    hashes = [at[index] for index in range(first, first + TILE) if index in at]
                    if len(hashes) == TILE:
                        self._tiles.put(base, first >> STRIDE, b"".join(hashes))

    def build(self, nodes: list[Node]) -> dict[Node, bytes]:
        """Kept-level nodes built from the level below (never read back from themselves)."""
        below = [
            (level - STRIDE, (index << STRIDE) + offset)
            for level, index in nodes
            for offset in range(1 << STRIDE)
        ]
        hashes = self.hashes(below)
        return {
            (level, index): perfect_root(
                [
                    hashes[(level - STRIDE, (index << STRIDE) + offset)]
                    for offset in range(1 << STRIDE)
                ]
            )
            for level, index in nodes
        }


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans with overlapping or touching ones joined, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@functools.lru_cache(maxsize=256)
def _kept_statement(shape: tuple[tuple[int, int], ...]) -> Executable:
    """The statement reading the hashes of each kept level's ranges, per shape (the levels and
    how many ranges each): built once, its bounds bound per call, so it is compiled once too.

    Each range of entries is a SELECT of its own, so that each is one scan of the index on
    (seq, entry_hash) that never touches the entries' rows (ranges joined by OR would be
    gathered in a bitmap of the rows, read from the table).
    """
    parts: list[Select[int, int, str, bytes]] = []
    for base, count in shape:
        for number in range(count):
            lowest = bindparam(f"from_{base}_{number}", type_=BigInteger)
            highest = bindparam(f"to_{base}_{number}", type_=BigInteger)
            if base == 0:
                parts.append(
                    select(
                        literal(0, SmallInteger).label("level"),
                        (AuditEntry.seq - 1).label("idx"),
                        AuditEntry.entry_hash.label("hex"),
                        null().cast(LargeBinary).label("hash"),
                    ).where(AuditEntry.seq.between(lowest, highest))
                )
            else:
                parts.append(
                    select(
                        AuditTreeNode.level,
                        AuditTreeNode.idx,
                        null().cast(String).label("hex"),
                        AuditTreeNode.hash,
                    ).where(AuditTreeNode.level == base, AuditTreeNode.idx.between(lowest, highest))
                )
    return parts[0] if len(parts) == 1 else union_all(*parts)


@dataclass(frozen=True)
class Edge:
    """The right edge of the tree over entries 1..size: its perfect subtrees' hashes, largest
    first, and entry size's entry_hash (which names the log the edge belongs to)."""

    size: int
    entry_hash: str
    stack: tuple[bytes, ...]


class Frontier:
    """The edge of the tree at the last checkpoint this process committed, so that the next
    checkpoint reads only the entries appended since (about a hundred) instead of folding the
    kept nodes again under the log's lock. The tree over entries 1..size never changes, so an
    edge stays true as long as entry size is the one it names; it is taken up only once its
    transaction has committed."""

    def __init__(self) -> None:
        self._edge: Edge | None = None
        self._lock = threading.Lock()

    @property
    def edge(self) -> Edge | None:
        with self._lock:
            return self._edge

    def keep_after_commit(self, session: Session, edge: Edge) -> None:
        """Take the edge up when the session's transaction commits; drop it on a rollback."""
        settled = False

        def committed(_: Session) -> None:
            nonlocal settled
            if not settled:
                settled = True
                with self._lock:
                    if self._edge is None or self._edge.size <= edge.size:
                        self._edge = edge

        def rolled_back(_: Session) -> None:
            nonlocal settled
            settled = True

        event.listen(session, "after_commit", committed, once=True)
        event.listen(session, "after_rollback", rolled_back, once=True)


def root_and_edge(
    session: Session, size: int, entry_hash: str, frontier: Frontier | None = None
) -> tuple[bytes, Edge]:
    """The root of the tree over entries 1..size, with the kept nodes it completes added, and its
    edge. From the frontier's edge when it is of this log and close behind; else from the kept
    nodes (added first for every complete subtree)."""
    edge = frontier.edge if frontier is not None else None
    if edge is not None and edge.size <= size <= edge.size + EXTEND_BATCH:
        extended = _extend_edge(session, edge, size)
        if extended is not None:
            return fold(extended.stack), extended
    extend_tree(session, size)
    parts = subtrees(0, size)
    found = NodeReader(session).hashes(parts)
    stack = tuple(found[node] for node in parts)
    return fold(stack), Edge(size, entry_hash, stack)


def _extend_edge(session: Session, edge: Edge, size: int) -> Edge | None:
    """The edge at ``size`` from one at a smaller size, reading the entries between; None when
    entry ``edge.size`` is no longer the one the edge names."""
    rows = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash)
        .where(AuditEntry.seq.between(max(edge.size, 1), size))
        .order_by(AuditEntry.seq)
    ).all()
    if edge.size and (not rows or tuple(rows[0]) != (edge.size, edge.entry_hash)):
        return None
    leaves = rows[1:] if edge.size else rows
    if [seq for seq, _ in leaves] != list(range(edge.size + 1, size + 1)):
        return None
    completed: dict[Node, bytes] = {}

    def on_node(level: int, index: int, hash_: bytes) -> None:
        if level % STRIDE == 0:
            completed[(level, index)] = hash_

    compact = CompactRange.resume(edge.size, edge.stack, on_node)
    for _, entry_hash in leaves:
        compact.append(leaf_of(entry_hash))
    _keep(session, completed)
    last = leaves[-1][1] if leaves else edge.entry_hash
    return Edge(size, last, compact.stack)


def root_at(session: Session, size: int) -> bytes:
    """The root hash of the tree over entries 1..size (RFC 9162's MTH)."""
    if size == 0:
        return EMPTY_ROOT
    parts = subtrees(0, size)
    found = NodeReader(session).hashes(parts)
    return fold([found[node] for node in parts])


def inclusion_proof(
    session: Session, seq: int, size: int, tiles: KeptTiles | None = None
) -> list[bytes]:
    """RFC 9162 §2.1.3: the audit path of entry ``seq`` in the tree of ``size`` entries."""
    spans = inclusion_spans(seq - 1, size)
    return span_hashes(spans, NodeReader(session, tiles).hashes(span_nodes(spans)))


def consistency_proof(
    session: Session, old: int, new: int, tiles: KeptTiles | None = None
) -> list[bytes]:
    """RFC 9162 §2.1.4: the proof that the tree of ``old`` entries is a prefix of ``new``'s."""
    spans = consistency_spans(old, new)
    return span_hashes(spans, NodeReader(session, tiles).hashes(span_nodes(spans)))


def kept_sizes(session: Session) -> dict[int, int]:
    """How many nodes each kept level holds (they are added in order, from index 0)."""
    rows = session.execute(
        select(AuditTreeNode.level, func.max(AuditTreeNode.idx)).group_by(AuditTreeNode.level)
    )
    return {level: top + 1 for level, top in rows}


def extend_tree(session: Session, size: int) -> int:
    """Keep every perfect subtree at levels 8, 16, … that entries 1..size complete; returns the
    number of nodes added. Idempotent: a node kept already (by a concurrent caller) stays."""
    if size <= 0:
        return 0
    have = kept_sizes(session)
    added = 0
    level = STRIDE
    block = 1 << STRIDE
    while size >> level:
        want = size >> level
        for first in range(have.get(level, 0), want, EXTEND_BATCH >> STRIDE):
            last = min(want, first + (EXTEND_BATCH >> STRIDE))
            below = _level_below(session, level, first * block, last * block)
            if len(below) != (last - first) * block:
                raise LookupError(f"the tree below level {level} is not complete: extend in order")
            _keep(session, {
                (level, index): perfect_root(below[(index - first) * block : (index - first + 1) * block])
                for index in range(first, last)
            })  # fmt: skip
            added += last - first
        level += STRIDE
    return added


def _level_below(session: Session, level: int, start: int, end: int) -> list[bytes]:
    """The hashes at ``level - 8`` (leaves at level 8) of indexes start..end, in order."""
    if level == STRIDE:
        rows = session.execute(
            select(AuditEntry.entry_hash)
            .where(AuditEntry.seq.between(start + 1, end))
            .order_by(AuditEntry.seq)
        )
        return [leaf_of(entry_hash) for (entry_hash,) in rows]
    kept = session.execute(
        select(AuditTreeNode.hash)
        .where(AuditTreeNode.level == level - STRIDE, AuditTreeNode.idx.between(start, end - 1))
        .order_by(AuditTreeNode.idx)
    )
    return [bytes(hash_) for (hash_,) in kept]


def _keep(session: Session, hashes: dict[Node, bytes]) -> None:
    if not hashes:
        return
    rows = [
        {"level": level, "idx": index, "hash": hash_} for (level, index), hash_ in hashes.items()
    ]
    dialect = session.get_bind().dialect.name
    statement = (
        postgresql.insert(_NODES) if dialect == "postgresql" else sqlite.insert(_NODES)
    ).on_conflict_do_nothing(index_elements=["level", "idx"])
    session.execute(statement, rows)

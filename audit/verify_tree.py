"""The tree pass of verifying the stored log: the Merkle tree over the entries' hashes as
stored, held against the version 2 checkpoints' roots and against the tree's kept nodes."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.merkle import Node, TreeBuilder
from audit.models import AuditEntry, AuditTreeNode
from audit.verify import SignedPoints

BATCH = 10_000


@dataclass
class TreePass:
    """What a pass over the entries' hashes found: whether the version 2 checkpoints hold for
    the tree's roots, and the first kept node the tree does not have."""

    roots_hold: bool = True
    wrong_node: Node | None = None


class TreeCheck:
    """The tree built as the entries' hashes come in, a batch at a time, in seq order: each
    version 2 checkpoint held against the root at its size, each kept node against the tree.

    A reading that has the hashes already (the quick reading of the stored bytes) feeds them
    here, so the entries are read once for the chain and the tree together.
    """

    def __init__(self, session: Session, points: SignedPoints | None) -> None:
        self.found = TreePass()
        self._points = points
        self._due = sorted(points.tree_seqs) if points is not None else []
        kept = {
            (level, index): bytes(hash_)
            for level, index, hash_ in session.execute(
                select(AuditTreeNode.level, AuditTreeNode.idx, AuditTreeNode.hash)
            )
        }
        found = self.found

        def on_node(level: int, index: int, hash_: bytes) -> None:
            if found.wrong_node is None and kept.get((level, index), hash_) != hash_:
                found.wrong_node = (level, index)

        self._tree = TreeBuilder(on_node=on_node if kept else None)

    def add(self, digests: Sequence[bytes]) -> None:
        """Append the next entries' 32-byte hashes; a checkpoint due within them is checked."""
        tree, due, start = self._tree, self._due, 0
        while due and due[0] <= tree.size + len(digests) - start:
            cut = start + due[0] - tree.size
            tree.add_digests(digests[start:cut])
            start = cut
            assert self._points is not None
            if not self._points.confirm_root(due.pop(0), tree.root()):
                self.found.roots_hold = False
        tree.add_digests(digests[start:] if start else digests)

    def finish(self) -> TreePass:
        """What the pass found, once every entry is in; a checkpoint past them does not hold."""
        if self._due:
            self.found.roots_hold = False
        return self.found


def tree_pass(session: Session, through: int, points: SignedPoints | None) -> TreePass:
    """The Merkle tree over entries 1..through, built from their hashes as stored; each kept
    node held against it, and (given ``points``) each version 2 checkpoint against its root."""
    check = TreeCheck(session, points)
    statement = (
        select(AuditEntry.entry_hash)
        .where(AuditEntry.seq <= through)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=BATCH)
    )
    fromhex = bytes.fromhex
    with cycle_collection_paused():
        for rows in session.execute(statement).partitions():
            check.add([fromhex(entry_hash) for (entry_hash,) in rows])
    return check.finish()


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """The walk makes a million short-lived rows per million entries and no reference cycles.

    Refcounting frees every row, so memory stays flat; the cycle collector would only scan the
    process's heap again and again: in a process with the gateway loaded, a quarter of the walk.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

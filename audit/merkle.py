"""The Merkle tree of RFC 9162 §2.1 over the log: hashes, proofs and their verification.

leaf hash = SHA-256(0x00 || leaf)        node hash = SHA-256(0x01 || left || right)

A perfect subtree is named (level, index): it covers leaves index * 2**level up to
(index + 1) * 2**level. Every hash a proof needs, and every root, is a fold of such subtrees
(:func:`subtrees`), so a store that keeps some of them (audit/tree.py) answers proofs by
reading a few rows. Pure: no database, so offline verifiers import it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index) of a perfect subtree
Span = tuple[int, int]  # leaves begin..end (end excluded) whose tree hash a proof holds

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof asked for sizes or indexes the tree does not have, or one that does not verify."""


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of one leaf."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (size > 1), RFC 9162's k."""
    return 1 << ((size - 1).bit_length() - 1)


def subtrees(begin: int, end: int) -> list[Node]:
    """The perfect subtrees whose right fold is the tree hash of leaves begin..end, left first.

    For every span a proof names (and for 0..size) these are aligned, largest first: the binary
    digits of end - begin.
    """
    nodes: list[Node] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The tree hash of consecutive perfect subtrees, largest first (RFC 9162's MTH)."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_spans(index: int, size: int) -> list[Span]:
    """RFC 9162 §2.1.3.1: the spans whose hashes make up the inclusion proof of leaf ``index``
    in the tree of ``size`` leaves, from the leaf's sibling up."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    spans: list[Span] = []
    begin, end = 0, size
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            spans.append((begin + k, end))
            end = begin + k
        else:
            spans.append((begin, begin + k))
            begin += k
    return spans[::-1]


def consistency_spans(old: int, new: int) -> list[Span]:
    """RFC 9162 §2.1.4.1: the spans whose hashes prove the tree of ``old`` leaves is a prefix of
    the tree of ``new`` leaves (none when old is 0 or old equals new)."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from {old} to {new} leaves")
    if old in (0, new):
        return []
    spans: list[Span] = []
    begin, end, whole = 0, new, True  # SUBPROOF(m, D[begin:end], whole)
    m = old
    while m != end - begin:
        k = _split(end - begin)
        if m <= k:
            spans.append((begin + k, end))
            end = begin + k
        else:
            spans.append((begin, begin + k))
            m -= k
            begin += k
            whole = False
    if not whole:
        spans.append((begin, end))
    return spans[::-1]


def span_nodes(spans: Iterable[Span]) -> set[Node]:
    """Every perfect subtree that the spans' hashes are folded from."""
    return {node for begin, end in spans for node in subtrees(begin, end)}


def span_hashes(spans: Iterable[Span], nodes: Mapping[Node, bytes]) -> list[bytes]:
    """The hash of each span, folded from the perfect subtrees' hashes."""
    return [fold([nodes[node] for node in subtrees(begin, end)]) for begin, end in spans]


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """The tree hash of these leaf hashes (RFC 9162's MTH), for small trees and tests."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_from_leaves(leaves[:k]), root_from_leaves(leaves[k:]))


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2, with ``leaf`` the leaf's hash; ProofError unless the path leads to root."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is high")
    if result != root:
        raise ProofError("the inclusion proof does not lead to the root hash")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; ProofError unless the tree of ``old`` leaves is a prefix of ``new``'s."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from {old} to {new} leaves")
    if old == new or old == 0:
        if path:
            raise ProofError("a consistency proof from an empty or equal tree is empty")
        if old == new and old_root != new_root:
            raise ProofError("two trees of the same size have different root hashes")
        return
    if not path:
        raise ProofError("the consistency proof is empty")
    hashes = [old_root, *path] if old & (old - 1) == 0 else list(path)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = hashes[0]
    for hash_ in hashes[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            first, second = node_hash(hash_, first), node_hash(hash_, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, hash_)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is high")
    if first != old_root or second != new_root:
        raise ProofError("the consistency proof does not lead to both root hashes")


class CompactRange:
    """The perfect subtrees of leaves 0..size, for roots while leaves are appended one by one.

    Appending costs one leaf hash and, on average, one node hash; ``root`` folds at most
    log2(size) hashes. ``on_node`` sees every perfect subtree as it completes, so a verifier
    can hold stored nodes against the leaves.
    """

    def __init__(self, on_node: Callable[[int, int, bytes], None] | None = None) -> None:
        self.size = 0
        self._stack: list[bytes] = []
        self._on_node = on_node

    @classmethod
    def resume(
        cls,
        size: int,
        stack: Sequence[bytes],
        on_node: Callable[[int, int, bytes], None] | None = None,
    ) -> CompactRange:
        """The range of leaves 0..size from its perfect subtrees' hashes, largest first."""
        if len(stack) != size.bit_count():
            raise ProofError(f"a tree of {size} leaves has {size.bit_count()} perfect subtrees")
        resumed = cls(on_node)
        resumed.size, resumed._stack = size, list(stack)
        return resumed

    @property
    def stack(self) -> tuple[bytes, ...]:
        """The hashes of the perfect subtrees of leaves 0..size, largest first."""
        return tuple(self._stack)

    def append(self, leaf: bytes) -> None:
        """Append a leaf hash."""
        node = leaf
        size = self.size
        level = 0
        while size & 1:
            node = node_hash(self._stack.pop(), node)
            size >>= 1
            level += 1
            if self._on_node is not None:
                self._on_node(level, ((self.size + 1) >> level) - 1, node)
        self._stack.append(node)
        self.size += 1

    def root(self) -> bytes:
        """The tree hash of the leaves so far."""
        return fold(self._stack)


_BLOCK_LEVEL = 8
_LEAF_PREFIX = hashlib.sha256(b"\x00")
_NODE_PREFIX = hashlib.sha256(b"\x01")
_BLOCK = 1 << _BLOCK_LEVEL


class TreeBuilder:
    """The tree over a stream of leaves, a block of 256 at a time: each full block is folded
    level by level (no stack, no callback per hash), the blocks' roots go into a compact
    range. ``root`` folds the blocks so far and the partial block; ``on_node`` sees each
    complete perfect subtree at levels 8, 16, 24, …, for a verifier of kept nodes."""

    def __init__(self, on_node: Callable[[int, int, bytes], None] | None = None) -> None:
        self._on_node = on_node
        self._blocks = CompactRange(self._above if on_node is not None else None)
        self._block: list[bytes] = []

    @property
    def size(self) -> int:
        return self._blocks.size * _BLOCK + len(self._block)

    def add_digests(self, digests: Sequence[bytes]) -> None:
        """Append leaves given as the entries' 32-byte entry hashes (the leaf of §5)."""
        leaves = []
        for digest in digests:  # as in perfect_root: a copy of the prefix's state
            leaf = _LEAF_PREFIX.copy()
            leaf.update(digest)
            leaves.append(leaf.digest())
        self.add(leaves)

    def add(self, leaves: Sequence[bytes]) -> None:
        """Append leaf hashes."""
        block = self._block
        start = 0
        while start < len(leaves):
            take = min(_BLOCK - len(block), len(leaves) - start)
            block.extend(leaves[start : start + take])
            start += take
            if len(block) == _BLOCK:
                node = perfect_root(block)
                if self._on_node is not None:
                    self._on_node(_BLOCK_LEVEL, self._blocks.size, node)
                self._blocks.append(node)
                block.clear()

    def root(self) -> bytes:
        """The root hash of the tree over the leaves so far (RFC 9162's MTH)."""
        partial = [
            perfect_root(self._block[index << level : (index + 1) << level])
            for level, index in subtrees(0, len(self._block))
        ]
        return fold([*self._blocks.stack, *partial])

    def _above(self, level: int, index: int, hash_: bytes) -> None:
        """A subtree of blocks completed: level counted from the blocks, 8 below the leaves."""
        if (level + _BLOCK_LEVEL) % _BLOCK_LEVEL == 0 and self._on_node is not None:
            self._on_node(level + _BLOCK_LEVEL, index, hash_)


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a perfect subtree from its 2**k hashes at one level, left to right."""
    level = list(hashes)
    while len(level) > 1:
        above = []
        pairs = iter(level)
        # A copy of the prefix's hash state costs less than a new hash of a concatenation.
        for left, right in zip(pairs, pairs, strict=True):
            node = _NODE_PREFIX.copy()
            node.update(left)
            node.update(right)
            above.append(node.digest())
        level = above
    return level[0]

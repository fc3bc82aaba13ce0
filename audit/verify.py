"""Verify a log offline: the hash chain, the Merkle tree and every signed checkpoint
(docs/audit-format.md §8).

Only what is written in the format document is used, so an export and a JWKS are enough; no
database is imported here or below (a test holds that), so a verifier needs none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from audit.merkle import CompactRange, leaf_hash
from audit.note import Verifier
from audit.rules import Link, Problem, check, follows
from audit.trust import Trust, checkpoint_seq, is_tree_checkpoint

__all__ = [
    "PROGRESS_EVERY",
    "Progress",
    "SignedPoints",
    "Trusted",
    "VerifyReport",
    "follows",
    "verify_log",
]

# Progress is reported after every this many entries.
PROGRESS_EVERY = 100_000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Trusted:
    """What a verification trusts beyond the log's keys: its origin (None: the first version 2
    checkpoint's), witnesses' cosignature keys, and checkpoint notes kept outside the log (from
    a witness, or by an auditor), which the log must still hold."""

    origin: str | None = None
    witnesses: Sequence[Verifier] = field(default_factory=tuple)
    outside: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class VerifyReport:
    """OK, or the first sequence number at which the log is wrong and what is wrong there;
    and which witnesses cosigned which tree size."""

    ok: bool
    entries: int
    checkpoints: int
    last_seq: int
    verified_through: int
    first_bad_seq: int | None = None
    problem: str | None = None
    witnessed: tuple[tuple[str, int], ...] = ()

    def summary(self) -> str:
        if self.ok:
            unsigned = self.last_seq - self.verified_through
            return (
                f"OK: {self.entries} entries, {self.checkpoints} checkpoints; chain intact "
                f"through seq {self.last_seq}, signed through seq {self.verified_through}"
                + (f" ({unsigned} newer entries not yet checkpointed)" if unsigned else "")
                + self._witnesses()
            )
        where = f"seq {self.first_bad_seq}" if self.first_bad_seq is not None else "the log"
        return f"FAILED at {where}: {self.problem}" + self._witnesses()

    def _witnesses(self) -> str:
        if not self.witnessed:
            return ""
        seen = ", ".join(f"{name} at seq {size}" for name, size in self.witnessed)
        return f"; witnessed: {seen}"


def verify_log(
    entries: Iterable[Mapping[str, Any]],
    checkpoints: Iterable[Mapping[str, Any]],
    jwks: Mapping[str, Any],
    *,
    progress: Progress | None = None,
    trusted: Trusted | None = None,
) -> VerifyReport:
    """Check every entry from seq 1 in order, and each checkpoint at its entry.

    Each checkpoint note ``trusted`` holds from outside must be this log's at its size, and a
    log that ends before one was cut back. ``progress``, if given, is called with the number of entries checked so far every
    PROGRESS_EVERY entries.
    """
    trusted = trusted or Trusted()
    trust = Trust(jwks, origin=trusted.origin, witnesses=trusted.witnesses)
    listed = list(checkpoints)
    walk = _Walk(trust, listed, trusted.outside)
    try:
        for checkpoint in listed:
            trust.check_shape(checkpoint)
        walk.prepare()
        for entry in entries:
            walk.step(entry)
            if progress is not None and walk.count % PROGRESS_EVERY == 0:
                progress(walk.count)
        walk.finish()
    except Problem as problem:
        return walk.report(trust, len(listed), problem)
    return walk.report(trust, len(listed), None)


class _Walk:
    """The running state of the walk: the chain's link, the tree, the checkpoints still due."""

    def __init__(self, trust: Trust, checkpoints: list[Mapping[str, Any]], outside: Sequence[str]):
        self.trust = trust
        self.checkpoints = checkpoints
        self.outside = list(outside)
        self.link = Link()
        self.count = 0
        self.verified_through = 0
        self.due: list[tuple[int, int, Any]] = []  # (seq, order, checkpoint or outside note)
        self.tree: CompactRange | None = None

    def prepare(self) -> None:
        """Order what is due by seq; a note kept outside is read (and its size known) now."""
        for order, checkpoint in enumerate(self.checkpoints):
            self.due.append((checkpoint_seq(checkpoint), order, checkpoint))
        for text in self.outside:
            _, head = self.trust.read_note(text, None)
            self.due.append((head.size, len(self.due), text))
        self.due.sort(key=lambda item: (item[0], item[1]), reverse=True)
        if self.outside or any(is_tree_checkpoint(c) for c in self.checkpoints):
            self.tree = CompactRange()

    def step(self, entry: Mapping[str, Any]) -> None:
        digest = check(entry, self.link)
        self.link.step(entry, digest)
        self.count += 1
        if self.tree is not None:
            self.tree.append(leaf_hash(digest))
        while self.due and self.due[-1][0] <= self.link.seq:
            seq, _, point = self.due.pop()
            if seq != self.link.seq:  # a checkpoint for seq 0 or less
                raise Problem(seq if seq >= 1 else None, "malformed checkpoint")
            if isinstance(point, str):
                assert self.tree is not None
                self.trust.check_note(point, seq, self.tree.root())
                continue
            self.trust.check(point, entry, self._root)
            self.verified_through = seq

    def _root(self) -> bytes:
        assert self.tree is not None  # made whenever a version 2 checkpoint is due
        return self.tree.root()

    def finish(self) -> None:
        if self.due:
            seq, _, point = self.due[-1]
            kept = (
                "a witnessed checkpoint kept outside" if isinstance(point, str) else "a checkpoint"
            )
            raise Problem(
                self.link.seq + 1,
                f"{kept} signs seq {seq} but the log ends at seq {self.link.seq}: entries were "
                "cut off",
            )

    def report(self, trust: Trust, checkpoints: int, problem: Problem | None) -> VerifyReport:
        return VerifyReport(
            ok=problem is None,
            entries=self.count,
            checkpoints=checkpoints,
            last_seq=self.link.seq,
            verified_through=self.verified_through,
            first_bad_seq=None if problem is None else problem.seq,
            problem=None if problem is None else problem.message,
            witnessed=tuple(sorted(trust.witnessed.items())),
        )


class SignedPoints:
    """The checkpoints of a quick reading that hashes entries as written (verify_export.py,
    verify_database.py).

    Such a reading proves the chain from the genesis hash by hashing each entry's written JCS
    bytes. Up to the last checkpoint, a valid signature vouches that these are the bytes the
    gateway wrote, and the gateway writes only entries that pass §8, so only the entries that
    checkpoints sign need parsing, to hold each checkpoint against its entry and key (and a
    version 2 checkpoint against the root of the tree over the entries' hashes). Nothing
    vouches for the entries after the last checkpoint: a forger may have written them and
    hashed them all again, so each is parsed and held to every rule of §8 (:func:`follows`).
    Every method answers False or None where the careful reading (:func:`verify_log`) must
    decide, so the quick reading's verdict is always the careful one's.
    """

    def __init__(self, checkpoints: Sequence[Mapping[str, Any]], trust: Trust) -> None:
        self.by_seq = {checkpoint_seq(checkpoint): checkpoint for checkpoint in checkpoints}
        self._count = len(checkpoints)
        self._trust = trust
        self.verified_through = 0
        trees = {seq for seq, checkpoint in self.by_seq.items() if is_tree_checkpoint(checkpoint)}
        self.tree_seqs = frozenset(trees)  # version 2: hold against the tree's root
        self.entry_seqs = frozenset(self.by_seq) - self.tree_seqs  # version 1: against the entry
        self.needs_tree = bool(trees)

    @classmethod
    def of(
        cls,
        checkpoints: Sequence[Mapping[str, Any]],
        jwks: Mapping[str, Any],
        trusted: Trusted | None = None,
    ) -> SignedPoints | None:
        trusted = trusted or Trusted()
        trust = Trust(jwks, origin=trusted.origin, witnesses=trusted.witnesses)
        try:
            for checkpoint in checkpoints:
                trust.check_shape(checkpoint)
        except Problem:
            return None
        points = cls(checkpoints, trust)
        return points if len(points.by_seq) == len(checkpoints) else None

    @property
    def last_signed(self) -> int:
        """The highest seq a checkpoint signs (0: none); entries after it are checked one by one."""
        return max(self.by_seq, default=0)

    def confirm(self, seq: int, entry: Any, root: bytes | None = None) -> bool:
        """The checkpoint at ``seq`` holds for ``entry`` (the parsed entry at that seq) and, for
        a version 2 checkpoint, ``root`` (the root of the tree over entries 1..seq)."""
        if not isinstance(entry, Mapping) or entry.get("seq") != seq:
            return False
        checkpoint = self.by_seq[seq]
        if is_tree_checkpoint(checkpoint) and root is None:
            return False
        try:
            self._trust.check(checkpoint, entry, lambda: root or b"")
        except Problem:
            return False
        self.verified_through = max(self.verified_through, seq)  # checked in any order
        return True

    def confirm_root(self, seq: int, root: bytes) -> bool:
        """The version 2 checkpoint at ``seq`` holds for the tree whose root is ``root``."""
        return self.confirm(seq, {"seq": seq}, root)

    def report(self, entries: int) -> VerifyReport | None:
        """OK for a chain of ``entries`` entries, unless a checkpoint signs past its end."""
        if any(seq > entries for seq in self.by_seq):
            return None
        return VerifyReport(
            ok=True,
            entries=entries,
            checkpoints=self._count,
            last_seq=entries,
            verified_through=self.verified_through,
            witnessed=tuple(sorted(self._trust.witnessed.items())),
        )

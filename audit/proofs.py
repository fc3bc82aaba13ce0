"""Proof bundles (docs/audit-format.md §9) and their offline check: that an entry is in the log
(RFC 9162 inclusion proof to a signed checkpoint) and that a later checkpoint extends an
earlier one (consistency proof). Pure: what the bundle holds, the JWKS and the origin suffice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from audit.chain import canonical_json
from audit.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from audit.note import NoteError, Verifier, parse_note
from audit.rules import Link as ChainLink
from audit.rules import Problem, careful_check, version_of
from audit.tlog import Checkpoint, TlogProof, parse_proof_text, proof_text
from audit.trust import Trust

INCLUSION_FORMAT: Final = "schakel-audit-inclusion/2"
CONSISTENCY_FORMAT: Final = "schakel-audit-consistency/2"


class InclusionBundle(BaseModel):
    """An entry, its place in the tree, its audit path and the checkpoint the path leads to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["schakel-audit-inclusion/2"] = INCLUSION_FORMAT
    entry: dict[str, Any] = Field(description="The entry, as in §1 (with entry_hash)")
    index: int = Field(ge=0, description="The entry's leaf index: seq - 1")
    tree_size: int = Field(ge=1, description="The size of the tree the checkpoint signs")
    inclusion_path: list[str] = Field(
        description="RFC 9162 §2.1.3 audit path, hex, from the leaf's sibling up"
    )
    checkpoint: str = Field(description="The C2SP tlog-checkpoint note, cosignatures included")


class ConsistencyBundle(BaseModel):
    """Two checkpoints of the log and the proof that the later one's tree extends the earlier's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["schakel-audit-consistency/2"] = CONSISTENCY_FORMAT
    old_size: int = Field(ge=0)
    new_size: int = Field(ge=0)
    proof: list[str] = Field(description="RFC 9162 §2.1.4 consistency proof, hex")
    old_checkpoint: str = Field(description="The earlier C2SP tlog-checkpoint note")
    new_checkpoint: str = Field(description="The later C2SP tlog-checkpoint note")


@dataclass(frozen=True)
class ProofReport:
    """Whether a proof holds, for what, and which trusted witnesses cosigned its checkpoint."""

    ok: bool
    what: str
    problem: str | None = None
    witnessed: tuple[tuple[str, int], ...] = ()

    def summary(self) -> str:
        seen = ", ".join(f"{name} at seq {size}" for name, size in self.witnessed)
        witnessed = f"; witnessed: {seen}" if seen else "; no trusted witness cosigned it"
        if self.ok:
            return f"OK: {self.what}{witnessed}"
        return f"FAILED: {self.what}: {self.problem}"


def check_inclusion(
    bundle: InclusionBundle,
    jwks: Mapping[str, Any],
    *,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
) -> ProofReport:
    """The entry is as §2 hashes it, its leaf is in the tree the checkpoint signs, and a key of
    the JWKS signed that checkpoint (under ``origin``, if given)."""
    entry = bundle.entry
    seq = entry.get("seq")
    what = f"entry {seq} in the tree of {bundle.tree_size} entries"
    trust = Trust(jwks, origin=origin, witnesses=witnesses)
    try:
        link = ChainLink()
        link.seq, link.entry_hash = bundle.index, str(entry.get("prev_hash"))
        link.version = version_of(entry)
        digest = careful_check(entry, link)
        _, head = trust.read_note(bundle.checkpoint, bundle.tree_size)
        if head.size != bundle.tree_size:
            raise Problem(None, f"the checkpoint signs {head.size} entries, not {bundle.tree_size}")
        path = [bytes.fromhex(node) for node in bundle.inclusion_path]
        verify_inclusion(bundle.index, bundle.tree_size, leaf_hash(digest), path, head.root)
        trust.check_note(bundle.checkpoint, head.size, head.root)
    except (Problem, ProofError, NoteError, ValueError) as error:
        return ProofReport(False, what, getattr(error, "message", str(error)))
    return ProofReport(True, what, witnessed=tuple(sorted(trust.witnessed.items())))


def check_consistency(
    bundle: ConsistencyBundle,
    jwks: Mapping[str, Any],
    *,
    kept: str | None = None,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
) -> ProofReport:
    """Both checkpoints are this log's, signed by a key of the JWKS, and the later tree extends
    the earlier one. ``kept`` is a checkpoint note the auditor kept: the earlier one must be it."""
    what = f"the tree of {bundle.new_size} entries extends the tree of {bundle.old_size}"
    trust = Trust(jwks, origin=origin, witnesses=witnesses)
    try:
        _, old = trust.read_note(bundle.old_checkpoint, bundle.old_size)
        _, new = trust.read_note(bundle.new_checkpoint, bundle.new_size)
        if (old.size, new.size) != (bundle.old_size, bundle.new_size):
            raise Problem(None, "the checkpoints' tree sizes are not the bundle's")
        if kept is not None:
            _, mine = trust.read_note(kept, None)
            if (mine.origin, mine.size, mine.root) != (old.origin, old.size, old.root):
                raise Problem(None, "the earlier checkpoint is not the one kept")
        proof = [bytes.fromhex(node) for node in bundle.proof]
        verify_consistency(old.size, new.size, old.root, new.root, proof)
        trust.check_note(bundle.new_checkpoint, new.size, new.root)
    except (Problem, ProofError, NoteError, ValueError) as error:
        return ProofReport(False, what, getattr(error, "message", str(error)))
    return ProofReport(True, what, witnessed=tuple(sorted(trust.witnessed.items())))


def as_tlog_proof(bundle: InclusionBundle) -> str:
    """The bundle as a C2SP tlog-proof; the extra data is the entry's JCS (with entry_hash)."""
    path = [bytes.fromhex(node) for node in bundle.inclusion_path]
    return proof_text(
        bundle.index, path, parse_note(bundle.checkpoint), extra=canonical_json(bundle.entry)
    )


def from_tlog_proof(text: str) -> InclusionBundle:
    """An inclusion bundle from a C2SP tlog-proof whose extra data holds the entry."""
    proof: TlogProof = parse_proof_text(text)
    if proof.extra is None:
        raise NoteError("this tlog proof carries no entry (extra data)")
    head = Checkpoint.parse(proof.note.text)
    return InclusionBundle(
        entry=json.loads(proof.extra),
        index=proof.index,
        tree_size=head.size,
        inclusion_path=[node.hex() for node in proof.path],
        checkpoint=str(proof.note),
    )

"""Proof bundles from the database: an entry's inclusion in a signed checkpoint, and one
checkpoint's consistency with another (audit/proofs.py says what they hold and checks them)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit.checkpoint import (
    cosignatures_of,
    published_note,
    tree_checkpoint_with_cosignatures,
    tree_checkpoints_with_cosignatures,
)
from audit.errors import NoSuchCheckpoint, NotCheckpointed
from audit.models import AuditCheckpoint, AuditEntry
from audit.proofs import ConsistencyBundle, InclusionBundle
from audit.query import entry_by_seq, entry_document
from audit.tree import KeptTiles, consistency_proof, inclusion_proof


def published(session: Session, checkpoint: AuditCheckpoint) -> str:
    """A tree checkpoint's note as published: the log's signature and the cosignatures kept."""
    lines = cosignatures_of(session, [checkpoint.seq]).get(checkpoint.seq, [])
    return str(published_note(checkpoint, lines))


def inclusion_bundle(
    session: Session,
    seq: int,
    *,
    size: int | None = None,
    entry: AuditEntry | None = None,
    tiles: KeptTiles | None = None,
) -> InclusionBundle:
    """Entry ``seq`` (read, unless the caller has read it as ``entry``), its audit path and the
    checkpoint the path leads to: the one of ``size`` entries, or the newest (``tiles``: the
    process's kept tiles, to read fewer nodes). NotCheckpointed when no checkpoint covers the
    entry yet."""
    document = entry_document(entry if entry is not None else entry_by_seq(session, seq))
    found = tree_checkpoint_with_cosignatures(session, size)
    if found is None and size is not None:
        raise NoSuchCheckpoint(f"no tree checkpoint of {size} entries")
    if found is None or found[0].seq < seq:
        raise NotCheckpointed(f"entry {seq} is not in a signed checkpoint yet")
    checkpoint, lines = found
    path = inclusion_proof(session, seq, checkpoint.seq, tiles)
    return InclusionBundle(
        entry=document,
        index=seq - 1,
        tree_size=checkpoint.seq,
        inclusion_path=[node.hex() for node in path],
        checkpoint=str(published_note(checkpoint, lines)),
    )


def consistency_bundle(
    session: Session, old: int, new: int, tiles: KeptTiles | None = None
) -> ConsistencyBundle:
    """The proof that the checkpoint of ``new`` entries extends the one of ``old`` entries; both
    must be tree checkpoints the log signed (NoSuchCheckpoint otherwise)."""
    if old > new:
        raise NoSuchCheckpoint(f"a tree of {new} entries cannot extend one of {old}")
    found = tree_checkpoints_with_cosignatures(session, [old, new])
    for size in (old, new):
        if size not in found:
            raise NoSuchCheckpoint(f"no tree checkpoint of {size} entries")
    return ConsistencyBundle(
        old_size=old,
        new_size=new,
        proof=[node.hex() for node in consistency_proof(session, old, new, tiles)],
        old_checkpoint=str(published_note(*found[old])),
        new_checkpoint=str(published_note(*found[new])),
    )

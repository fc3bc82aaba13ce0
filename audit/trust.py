"""What a verifier trusts, and the checkpoints held against it (docs/audit-format.md §4, §10).

A verifier trusts the log's public keys (the JWKS), the log's origin (the first line of its
checkpoints) and, if it likes, some witnesses' keys. A version 1 checkpoint is an Ed25519
signature over one entry; a version 2 checkpoint is a C2SP tlog-checkpoint note over the root
of the Merkle tree, possibly cosigned by witnesses (C2SP tlog-cosignature). Pure: no database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature

from audit.checkpoint_format import CHECKPOINT_FIELDS, signing_input
from audit.keys import b64url_decode, public_keys
from audit.note import ED25519, Note, NoteError, Verifier, parse_note, verify_note
from audit.rules import Problem
from audit.tlog import Checkpoint, verify_cosignature

# A version 2 checkpoint document (§4.2): the tree size, when it was signed, the signed note.
TREE_CHECKPOINT_FIELDS = ("seq", "signed_at", "note")


def checkpoint_seq(checkpoint: Any) -> int:
    """The seq (tree size) a checkpoint document names, or -1 when it names none."""
    seq = checkpoint.get("seq") if isinstance(checkpoint, Mapping) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else -1


def is_tree_checkpoint(checkpoint: Mapping[str, Any]) -> bool:
    return "note" in checkpoint


class Trust:
    """The keys, origin and witnesses a verification trusts, and what the witnesses have seen.

    ``origin`` None takes the origin of the first version 2 checkpoint; every later one must
    name the same log. ``witnessed`` collects, per witness name, the largest tree size it
    cosigned in a checkpoint that held.
    """

    def __init__(
        self,
        jwks: Mapping[str, Any],
        *,
        origin: str | None = None,
        witnesses: Iterable[Verifier] = (),
    ) -> None:
        self.keys = public_keys(jwks)
        self.origin = origin
        self.witnesses = tuple(witnesses)
        self.witnessed: dict[str, int] = {}

    def check_shape(self, checkpoint: Any) -> None:
        """A checkpoint of version 1 (§4.1) or version 2 (§4.2) form; Problem otherwise."""
        seq = checkpoint_seq(checkpoint)
        fields = (
            TREE_CHECKPOINT_FIELDS
            if isinstance(checkpoint, Mapping) and is_tree_checkpoint(checkpoint)
            else CHECKPOINT_FIELDS
        )
        if (
            not isinstance(checkpoint, Mapping)
            or set(checkpoint) != set(fields)
            or seq < 1
            or not all(isinstance(checkpoint[name], str) for name in fields if name != "seq")
        ):
            raise Problem(seq if seq >= 1 else None, "malformed checkpoint")

    def check(
        self, checkpoint: Mapping[str, Any], entry: Mapping[str, Any], root: Callable[[], bytes]
    ) -> None:
        """The checkpoint at the entry's seq holds: signed by a trusted key over that entry
        (version 1) or over the root of entries 1..seq (version 2, ``root`` computes it)."""
        if is_tree_checkpoint(checkpoint):
            self.check_note(checkpoint["note"], entry["seq"], root())
        else:
            self._check_entry_signature(checkpoint, entry)

    def _check_entry_signature(
        self, checkpoint: Mapping[str, Any], entry: Mapping[str, Any]
    ) -> None:
        seq = entry["seq"]
        key = self.keys.get(checkpoint["kid"])
        if key is None:
            raise Problem(seq, f"checkpoint signed with unknown key {checkpoint['kid']!r}")
        message = signing_input(
            seq=checkpoint["seq"],
            entry_hash=checkpoint["entry_hash"],
            recorded_at=checkpoint["recorded_at"],
        )
        try:
            key.verify(b64url_decode(checkpoint["signature"]), message)
        except (InvalidSignature, ValueError):
            raise Problem(seq, "checkpoint signature does not verify") from None
        if (checkpoint["entry_hash"], checkpoint["recorded_at"]) != (
            entry["entry_hash"],
            entry["recorded_at"],
        ):
            raise Problem(seq, "the signed checkpoint does not match the entry (log rewritten)")

    def check_note(self, text: str, seq: int, root: bytes) -> None:
        """A tlog-checkpoint note of this log, signed by a trusted key, for ``seq`` entries whose
        tree has the root hash ``root``; records which trusted witnesses cosigned it."""
        note, head = self.read_note(text, seq)
        if head.size != seq:
            raise Problem(seq, f"the checkpoint names tree size {head.size}, not {seq}")
        if head.root != root:
            raise Problem(
                seq, "the checkpoint's root hash is not that of the entries (log rewritten)"
            )
        for witness in self.witnesses:
            try:
                cosigned = verify_cosignature(note, witness)
            except NoteError as error:
                raise Problem(seq, str(error)) from None
            if cosigned is not None:
                self.witnessed[witness.name] = max(seq, self.witnessed.get(witness.name, 0))

    def read_note(self, text: str, seq: int | None) -> tuple[Note, Checkpoint]:
        """The note and its checkpoint, once a trusted key's signature on it verifies."""
        try:
            note = parse_note(text)
            head = Checkpoint.parse(note.text)
        except NoteError as error:
            raise Problem(seq, f"malformed checkpoint note: {error}") from None
        if self.origin is None:
            self.origin = head.origin
        if head.origin != self.origin:
            raise Problem(seq, f"a checkpoint of another log ({head.origin!r})")
        try:  # the log's key name is its origin, as tlog-checkpoint recommends
            signed = [
                verify_note(note, Verifier(head.origin, ED25519, key)) for key in self.keys.values()
            ]
        except NoteError as error:
            raise Problem(seq, str(error)) from None
        if not any(signed):
            raise Problem(seq, "the checkpoint note is not signed by a known key")
        return note, head

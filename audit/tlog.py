"""The transparency-log texts of C2SP: tlog-checkpoint v1.0.0 (a signed note of origin, tree size
and root hash), tlog-cosignature v1.0.0 (Ed25519, type 0x04), tlog-proof v1 and the body of a
tlog-witness add-checkpoint request. Pure: no database.

    <origin>\\n<tree size>\\n<base64 root hash>\\n      the checkpoint's note text
    cosignature/v1\\ntime <unix seconds>\\n<note text>  what a witness signs
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.note import (
    COSIGNATURE_ED25519,
    Note,
    NoteError,
    Signature,
    Verifier,
    b64,
    key_id,
    parse_note,
    raw_public,
    unb64,
)

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_LINES = 63
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: which log (origin), how many leaves, and their root hash (RFC 9162)."""

    origin: str
    size: int
    root: bytes

    @property
    def text(self) -> str:
        """The note text of tlog-checkpoint (no extension lines)."""
        return f"{self.origin}\n{self.size}\n{b64(self.root)}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """From a checkpoint's note text; extension lines are refused (this log writes none)."""
        lines = text.split("\n")
        if len(lines) != 4 or lines[3] != "" or not lines[0]:
            raise NoteError("a checkpoint is three lines: origin, tree size, root hash")
        if not _SIZE.fullmatch(lines[1]):
            raise NoteError(f"not a tree size: {lines[1][:30]!r}")
        root = unb64(lines[2])
        if len(root) != 32:
            raise NoteError("a checkpoint's root hash is 32 bytes")
        return cls(lines[0], int(lines[1]), root)


def cosigner(name: str, private_key: Ed25519PrivateKey) -> Verifier:
    """The verifier of a witness's cosignatures (type 0x04) under ``name``."""
    return Verifier(name, COSIGNATURE_ED25519, private_key.public_key())


def cosignature_message(text: str, timestamp: int) -> bytes:
    """What an Ed25519 cosignature signs (tlog-cosignature: cosignature/v1)."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign(text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> Signature:
    """A witness's cosignature line over a checkpoint's note text, at ``timestamp``."""
    if not 0 < timestamp < 2**63:
        raise NoteError("a cosignature's time is a POSIX timestamp")
    identity = key_id(name, COSIGNATURE_ED25519, raw_public(private_key.public_key()))
    signed = private_key.sign(cosignature_message(text, timestamp))
    return Signature(name, identity, timestamp.to_bytes(8, "big") + signed)


def verify_cosignature(note: Note, verifier: Verifier) -> int | None:
    """The time the verifier's witness cosigned the note, or None when it did not.

    A line with the witness's name and key ID that does not verify makes the note bad.
    """
    if verifier.kind != COSIGNATURE_ED25519:
        return None
    latest: int | None = None
    for signature in note.by(verifier):
        if len(signature.payload) != 8 + 64:
            raise NoteError(f"the cosignature of {verifier.name} is not 8 + 64 bytes")
        timestamp = int.from_bytes(signature.payload[:8], "big")
        try:
            verifier.public_key.verify(
                signature.payload[8:], cosignature_message(note.text, timestamp)
            )
        except InvalidSignature:
            raise NoteError(f"the cosignature of {verifier.name} does not verify") from None
        latest = timestamp if latest is None else max(latest, timestamp)
    return latest


def proof_text(index: int, path: list[bytes], note: Note, extra: bytes | None = None) -> str:
    """A tlog-proof: the entry's index, its inclusion proof and the checkpoint, verbatim."""
    lines = [PROOF_HEADER]
    if extra is not None:
        lines.append(f"extra {b64(extra)}")
    lines.append(f"index {index}")
    lines += [b64(node) for node in path]
    return "\n".join(lines) + "\n\n" + str(note)


@dataclass(frozen=True)
class TlogProof:
    """A parsed tlog-proof."""

    index: int
    path: list[bytes]
    note: Note
    extra: bytes | None


def parse_proof_text(data: str) -> TlogProof:
    """A tlog-proof from its text; NoteError unless it follows c2sp.org/tlog-proof@v1."""
    head, separator, rest = data.partition("\n\n")
    lines = head.split("\n")
    if not separator or not lines or lines[0] != PROOF_HEADER:
        raise NoteError(f"a tlog proof starts with {PROOF_HEADER} and holds a checkpoint")
    extra = None
    position = 1
    if len(lines) > position and lines[position].startswith("extra "):
        extra = unb64(lines[position][len("extra ") :])
        position += 1
    if len(lines) <= position or not lines[position].startswith("index "):
        raise NoteError("a tlog proof names the entry's index")
    index_text = lines[position][len("index ") :]
    if not _SIZE.fullmatch(index_text):
        raise NoteError(f"not an index: {index_text[:30]!r}")
    path = [unb64(line) for line in lines[position + 1 :]]
    if any(len(node) != 32 for node in path) or len(path) > MAX_PROOF_LINES:
        raise NoteError("an inclusion proof is at most 63 hashes of 32 bytes")
    return TlogProof(int(index_text), path, parse_note(rest), extra)


def add_checkpoint_body(old_size: int, proof: list[bytes], note: Note) -> str:
    """The body of a tlog-witness add-checkpoint request."""
    return f"old {old_size}\n" + "".join(b64(node) + "\n" for node in proof) + "\n" + str(note)


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed add-checkpoint request: the size the log thinks the witness holds, the
    consistency proof from it, and the new checkpoint."""

    old_size: int
    proof: list[bytes]
    note: Note


def parse_add_checkpoint(data: str) -> AddCheckpoint:
    """An add-checkpoint request body; NoteError unless it follows tlog-witness."""
    head, separator, rest = data.partition("\n\n")
    lines = head.split("\n")
    if not separator or not lines[0].startswith("old "):
        raise NoteError("the request is an old size line, proof lines, a blank line, a checkpoint")
    size = lines[0][len("old ") :]
    if not _SIZE.fullmatch(size):
        raise NoteError(f"not a tree size: {size[:30]!r}")
    proof = [unb64(line) for line in lines[1:]]
    if len(proof) > MAX_PROOF_LINES or any(len(node) != 32 for node in proof):
        raise NoteError("a consistency proof is at most 63 hashes of 32 bytes")
    return AddCheckpoint(int(size), proof, parse_note(rest))

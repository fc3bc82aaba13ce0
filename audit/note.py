"""Signed notes (C2SP signed-note v1.0.0): text signed by one or more keys, one line each.

    <text ending in a newline>
    <blank line>
    — <key name> base64(4-byte key ID || signature)

key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]; Ed25519 notes are type
0x01, Ed25519 checkpoint cosignatures (C2SP tlog-cosignature) type 0x04. Verifier keys (vkeys)
are "<name>+<hex key ID>+<base64(type || public key)>". Pure: no database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_ED25519 = 0x04
SIGNATURE_MARK = "\u2014 "  # em dash, space
MAX_SIGNATURES = 64
_SIGNATURE_LINE = re.compile(r"\u2014 ([^\s+]+) ([A-Za-z0-9+/]+={0,2})")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note, signature line or verifier key that does not follow C2SP signed-note."""


def b64(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4), as signed notes and checkpoints use it."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """The bytes of standard base64; NoteError for anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(f"not standard base64: {text[:40]!r}") from None


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    """The 4-byte key ID of signed-note: SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A key a note may be signed with: its name, signature type and Ed25519 public key."""

    name: str
    kind: int
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.kind, raw_public(self.public_key))

    @property
    def vkey(self) -> str:
        """The verifier key as text: <name>+<hex key ID>+<base64(type || public key)>."""
        material = bytes([self.kind]) + raw_public(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{b64(material)}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """A verifier key from its text; its key ID must be the one its name and key give."""
        parts = vkey.strip().split("+", 2)
        if (
            len(parts) != 3
            or not _valid_name(parts[0])
            or not re.fullmatch(r"[0-9a-f]{8}", parts[1])
        ):
            raise NoteError(f"not a verifier key (<name>+<key id>+<key>): {vkey[:60]!r}")
        material = unb64(parts[2])
        if len(material) != 33 or material[0] not in (ED25519, COSIGNATURE_ED25519):
            raise NoteError("only Ed25519 verifier keys (type 0x01 or 0x04) are supported")
        verifier = cls(parts[0], material[0], Ed25519PublicKey.from_public_bytes(material[1:]))
        if verifier.key_id.hex() != parts[1]:
            raise NoteError(f"the key ID of {parts[0]} does not match its key")
        return verifier


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name and ID, and what the key made (type-specific)."""

    name: str
    key_id: bytes
    payload: bytes

    @property
    def line(self) -> str:
        return f"{SIGNATURE_MARK}{self.name} {b64(self.key_id + self.payload)}\n"

    @classmethod
    def parse(cls, line: str) -> Signature:
        found = _SIGNATURE_LINE.fullmatch(line.rstrip("\n"))
        if found is None:
            raise NoteError(f"not a note signature line: {line[:60]!r}")
        raw = unb64(found.group(2))
        if len(raw) < 5:
            raise NoteError("a note signature holds a key ID and a signature")
        return cls(found.group(1), raw[:4], raw[4:])


@dataclass(frozen=True)
class Note:
    """A signed note: its text (ending in a newline) and its signatures, in order."""

    text: str
    signatures: tuple[Signature, ...]

    def __str__(self) -> str:
        return self.text + "\n" + "".join(signature.line for signature in self.signatures)

    def with_signatures(self, added: tuple[Signature, ...]) -> Note:
        """The note with more signatures; one already there is not repeated."""
        known = {(s.name, s.key_id, s.payload) for s in self.signatures}
        fresh = tuple(s for s in added if (s.name, s.key_id, s.payload) not in known)
        return Note(self.text, self.signatures + fresh)

    def by(self, verifier: Verifier) -> list[Signature]:
        """The signatures whose name and key ID are the verifier's (unknown keys are ignored)."""
        return [
            signature
            for signature in self.signatures
            if signature.name == verifier.name and signature.key_id == verifier.key_id
        ]


def parse_note(data: str) -> Note:
    """A note from its text form; NoteError unless it follows signed-note v1.0.0."""
    if _CONTROL.search(data):
        raise NoteError("a note holds no control characters but newlines")
    at = data.rfind("\n\n")
    if at < 0 or not data.endswith("\n"):
        raise NoteError(
            "a note is text, a blank line and signature lines, each ending in a newline"
        )
    text, lines = data[: at + 1], data[at + 2 :].splitlines(keepends=True)
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note has one to {MAX_SIGNATURES} signatures")
    return Note(text, tuple(Signature.parse(line) for line in lines))


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> Note:
    """The text signed with an Ed25519 key (type 0x01) under ``name``."""
    if not text.endswith("\n") or _CONTROL.search(text) or not _valid_name(name):
        raise NoteError("a note's text ends in a newline, holds no control characters")
    identity = key_id(name, ED25519, raw_public(private_key.public_key()))
    return Note(text, (Signature(name, identity, private_key.sign(text.encode())),))


def verify_note(note: Note, verifier: Verifier) -> bool:
    """Whether the verifier's key signed the note (type 0x01). A signature line with the key's
    name and ID that does not verify makes the whole note bad (signed-note): NoteError."""
    mine = note.by(verifier)
    if verifier.kind != ED25519 or not mine:
        return False
    for signature in mine:
        try:
            verifier.public_key.verify(signature.payload, note.text.encode())
        except InvalidSignature:
            raise NoteError(f"the signature of {verifier.name} does not verify") from None
    return True


def _valid_name(name: str) -> bool:
    return bool(name) and not re.search(r"[\s+]", name)

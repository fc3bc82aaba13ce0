"""The key-encryption key (KEK) that wraps every participant's data key (AES-256-GCM key wrap)."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KekError(Exception):
    """The KEK is missing, malformed, or does not open a wrapped key."""


@dataclass(frozen=True)
class Kek:
    key: bytes

    @cached_property
    def kek_id(self) -> str:
        """A fingerprint, stored beside each wrapped key, so rotation knows what to re-wrap."""
        return hashlib.sha256(b"schakel-kek-id" + self.key).hexdigest()[:16]

    @cached_property
    def _cipher(self) -> AESGCM:
        """Made once: every disclosure unwraps a data key with it."""
        return AESGCM(self.key)

    def wrap(self, data_key: bytes, participant_id: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._cipher.encrypt(nonce, data_key, _aad(participant_id))

    def unwrap(self, wrapped: bytes, participant_id: str) -> bytes:
        try:
            return self._cipher.decrypt(wrapped[:12], wrapped[12:], _aad(participant_id))
        except InvalidTag:
            raise KekError("the data key does not open with this KEK") from None


def _aad(participant_id: str) -> bytes:
    return b"schakel-dek:" + participant_id.encode("ascii")


def parse_kek(text: str) -> Kek:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise KekError("the KEK must be 32 bytes in base64") from None
    if len(key) != 32:
        raise KekError("the KEK must be 32 bytes in base64")
    return Kek(key)


def load_kek(path: Path, *, create: bool) -> Kek:
    """Read the KEK file; the embedded default creates one (mode 0600) on first start."""
    if not path.exists():
        if not create:
            raise KekError(
                f"no KEK file at {path}; set SCHAKEL_KEK_FILE (`schakel keys init` makes one)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=False)
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return parse_kek(path.read_text())


def new_kek_text() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class KekRing:
    """The KEK that wraps new data keys, and a previous one still read during a rotation."""

    primary: Kek
    previous: Kek | None = None

    def for_id(self, kek_id: str) -> Kek:
        for kek in (self.primary, self.previous):
            if kek is not None and kek.kek_id == kek_id:
                return kek
        raise KekError(f"no configured KEK has id {kek_id}; set SCHAKEL_PREVIOUS_KEK_FILE")

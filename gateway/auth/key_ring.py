"""Keys with one job each: a signing key now, and the public keys it replaced (RFC 7517 JWKS).

A retired key stays published so what it signed still verifies: forever for consent receipts,
until the last access token it signed has expired for the token key. The retired-key file is a
JWKS whose members carry ``retired_at`` (seconds since the epoch), written by ``schakel keys``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from gateway.auth.signing_key import SigningKeyError, generate_ed25519_pem, key_from_pem

RETIRED_AT = "retired_at"
SESSION_KEY_BYTES = 32


@dataclass(frozen=True)
class RetiredKey:
    """A public key no longer used to sign, and when it stopped."""

    key: OKPKey
    retired_at: datetime


@dataclass(frozen=True)
class KeyRing:
    """The key that signs now and the retired keys that still verify."""

    current: OKPKey
    retired: tuple[RetiredKey, ...] = ()

    def verifying(self, kid: str | None, now: datetime, overlap: timedelta | None) -> OKPKey | None:
        """The key named ``kid``; a retired one only within ``overlap`` of its retirement."""
        if kid is None or kid == self.current.kid:
            return self.current
        for old in self.retired:
            if old.key.kid == kid and (overlap is None or now < old.retired_at + overlap):
                return old.key
        return None

    def jwks(self, now: datetime, overlap: timedelta | None) -> dict[str, Any]:
        """The public keys a verifier needs now: the current one first, then retired ones in use."""
        keys = [self.current.as_dict(private=False)]
        keys += [
            old.key.as_dict(private=False)
            for old in self.retired
            if overlap is None or now < old.retired_at + overlap
        ]
        return {"keys": keys}


def read_retired(path: Path | None) -> tuple[RetiredKey, ...]:
    """The retired keys of a file written by ``schakel keys``; no file, no retired keys."""
    if path is None or not path.exists():
        return ()
    try:
        document = json.loads(path.read_text("utf-8"))
        retired = []
        for member in document["keys"]:
            public = {name: value for name, value in member.items() if name != RETIRED_AT}
            when = datetime.fromtimestamp(int(member[RETIRED_AT]), tz=UTC)
            retired.append(RetiredKey(OKPKey.import_key(public), when))
    except (OSError, ValueError, KeyError, TypeError, JoseError) as error:
        raise SigningKeyError(f"{path}: not a retired-key set ({error})") from None
    return tuple(retired)


def load_ring(key_file: Path, retired_file: Path | None, *, create: bool, name: str) -> KeyRing:
    """The key in ``key_file`` (generated when allowed and missing) with its retired keys."""
    if not key_file.exists():
        if not create:
            raise SigningKeyError(f"SCHAKEL_{name}: no key at {key_file} (`schakel keys init`)")
        write_private(key_file, generate_ed25519_pem())
    return KeyRing(current=key_from_pem(key_file.read_bytes()), retired=read_retired(retired_file))


def rotate(key_file: Path, retired_file: Path, now: datetime) -> tuple[str, str]:
    """Retire the key in ``key_file`` into ``retired_file`` and put a new key in its place.

    The retired set is written first: a crash in between leaves the old key still signing and
    already published, never a signature that no published key verifies.
    """
    old = key_from_pem(key_file.read_bytes())
    members = []
    if retired_file.exists():
        members = json.loads(retired_file.read_text("utf-8"))["keys"]
    members.append({**old.as_dict(private=False), RETIRED_AT: int(now.timestamp())})
    _replace(retired_file, json.dumps({"keys": members}, indent=2).encode("utf-8"), mode=0o644)
    _replace(key_file, generate_ed25519_pem(), mode=0o600)
    return str(old.kid), str(key_from_pem(key_file.read_bytes()).kid)


def load_session_key(path: Path, *, create: bool) -> bytes:
    """The key that signs session cookies: 32 random bytes, hex, in a file of its own."""
    if not path.exists():
        if not create:
            raise SigningKeyError(
                f"SCHAKEL_SESSION_KEY_FILE: no key at {path} (`schakel keys init`)"
            )
        write_private(path, new_session_key())
    try:
        key = bytes.fromhex(path.read_text("ascii").strip())
    except (OSError, ValueError) as error:
        raise SigningKeyError(f"{path}: not a session key ({error})") from None
    if len(key) < SESSION_KEY_BYTES:
        raise SigningKeyError(f"{path}: a session key has at least {SESSION_KEY_BYTES} bytes")
    return key


def new_session_key() -> bytes:
    return (secrets.token_hex(SESSION_KEY_BYTES) + "\n").encode("ascii")


def write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(content)


def _replace(path: Path, content: bytes, *, mode: int) -> None:
    """Write beside, then rename over: a reader sees the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    partial.unlink(missing_ok=True)
    partial.touch(mode=mode, exist_ok=False)
    partial.write_bytes(content)
    partial.replace(path)

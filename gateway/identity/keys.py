"""Identity secrets: the BSN vault key, the blind-index key and one pseudonym key per domain."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class IdentityKeyError(Exception):
    """The identity key file is missing, unreadable or incomplete."""


@dataclass(frozen=True)
class IdentityKeys:
    vault_key: bytes
    blind_index_key: bytes
    pseudonym_master_key: bytes
    # Derived once per domain: every disclosure names its subject by the caller's pseudonym.
    _domain_keys: dict[str, bytes] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def pseudonym_key(self, domain: str) -> bytes:
        """One key per domain (HKDF, RFC 5869), so pseudonyms of two domains cannot be linked."""
        key = self._domain_keys.get(domain)
        if key is None:
            key = self._domain_keys[domain] = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=b"schakel-pseudonym-v1",
                info=domain.encode("utf-8"),
            ).derive(self.pseudonym_master_key)
        return key


_FIELDS = ("vault_key", "blind_index_key", "pseudonym_master_key")


def load_identity_keys(path: Path, *, create: bool) -> IdentityKeys:
    """Read the key file; on the embedded default create it (mode 0600) on first start."""
    if not path.exists():
        if not create:
            raise IdentityKeyError(
                f"no identity key file at {path}; set SCHAKEL_IDENTITY_KEYS_FILE "
                "(`schakel keys init` makes one)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {name: base64.b64encode(secrets.token_bytes(32)).decode() for name in _FIELDS}
        path.touch(mode=0o600, exist_ok=False)
        path.write_text(json.dumps(document, indent=2) + "\n")
    try:
        document = json.loads(path.read_text())
        values = {name: base64.b64decode(document[name], validate=True) for name in _FIELDS}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IdentityKeyError(f"identity key file {path} is not usable: {error}") from None
    if any(len(value) != 32 for value in values.values()):
        raise IdentityKeyError(f"identity key file {path}: every key must be 32 bytes")
    return IdentityKeys(**values)

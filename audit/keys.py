"""Ed25519 keys (RFC 8032) that sign checkpoints, published as a JWKS (RFC 7517, RFC 8037).

The ``kid`` of a key is its RFC 7638 thumbprint, so any verifier can recompute it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.chain import canonical_json
from audit.errors import AuditKeyError


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(x: str) -> str:
    """RFC 7638 §3 for an OKP key: SHA-256 over {"crv","kty","x"} in that order, no whitespace."""
    return b64url(hashlib.sha256(canonical_json({"crv": "Ed25519", "kty": "OKP", "x": x})).digest())


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """A public JWK (RFC 8037) with its thumbprint as ``kid``."""
    x = b64url(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": x,
        "kid": thumbprint(x),
        "alg": "EdDSA",
        "use": "sig",
    }


@dataclass(frozen=True)
class AuditSigningKey:
    """The private key the log signs checkpoints with, and its ``kid``."""

    private_key: Ed25519PrivateKey
    kid: str

    @classmethod
    def generate(cls) -> AuditSigningKey:
        return cls.from_private_key(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_key(cls, private_key: Ed25519PrivateKey) -> AuditSigningKey:
        return cls(private_key, public_jwk(private_key.public_key())["kid"])

    @classmethod
    def from_pem(cls, pem: bytes) -> AuditSigningKey:
        """Import a PKCS#8 PEM Ed25519 private key."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise AuditKeyError(f"not a PEM private key: {error}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyError("the audit signing key must be an Ed25519 private key")
        return cls.from_private_key(key)

    def to_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_jwk(self) -> dict[str, str]:
        return public_jwk(self.private_key.public_key())

    def sign(self, message: bytes) -> str:
        """Ed25519 signature, base64url without padding."""
        return b64url(self.private_key.sign(message))


def public_keys(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS by ``kid`` (the thumbprint when a member has none)."""
    members = jwks.get("keys")
    if not isinstance(members, list):
        raise AuditKeyError('a JWKS is a JSON object with a "keys" array')
    found: dict[str, Ed25519PublicKey] = {}
    for index, member in enumerate(members):
        if not isinstance(member, dict) or member.get("kty") != "OKP":
            raise AuditKeyError(f"keys[{index}] is not an OKP key")
        if member.get("crv") != "Ed25519" or not isinstance(member.get("x"), str):
            raise AuditKeyError(f"keys[{index}] is not an Ed25519 public key")
        if "d" in member:
            raise AuditKeyError(f"keys[{index}] holds private key material")
        try:
            key = Ed25519PublicKey.from_public_bytes(b64url_decode(member["x"]))
        except ValueError as error:
            raise AuditKeyError(f"keys[{index}]: {error}") from None
        found[str(member.get("kid") or thumbprint(member["x"]))] = key
    return found


def publish_jwks(
    signing_key: AuditSigningKey, retired: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The current key first, then the retired ones that keep old checkpoints verifiable."""
    keys: list[dict[str, Any]] = [signing_key.public_jwk()]
    for member in (retired or {}).get("keys", []):
        if member.get("kid") != signing_key.kid:
            keys.append({name: value for name, value in member.items() if name != "d"})
    return {"keys": keys}

"""The gateway's own Ed25519 key that signs access tokens, and its public JWKS."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from gateway.settings import Settings


class SigningKeyError(Exception):
    """The configured signing key is missing or unreadable."""


def generate_ed25519_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def key_from_pem(pem: bytes) -> OKPKey:
    """Import a PEM Ed25519 private key; its ``kid`` is the RFC 7638 thumbprint."""
    try:
        key = OKPKey.import_key(pem)
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"not an Ed25519 private key in PEM form: {error}") from None
    if not key.is_private or key.as_dict(private=False).get("crv") != "Ed25519":
        raise SigningKeyError("the token signing key must be an Ed25519 private key")
    return OKPKey.import_key(
        pem, parameters={"kid": key.thumbprint(), "alg": "EdDSA", "use": "sig"}
    )


def load_token_signing_key(settings: Settings) -> OKPKey:
    """Use the configured key; on the embedded default, generate one in data_dir on first start."""
    if settings.token_signing_key is not None:
        return key_from_pem(settings.token_signing_key.get_secret_value().encode())
    path = settings.token_signing_key_file
    if path is not None:
        if not path.is_file():
            raise SigningKeyError(f"SCHAKEL_TOKEN_SIGNING_KEY_FILE: no file at {path}")
        return key_from_pem(path.read_bytes())
    default = settings.data_dir / "keys" / "token-signing.pem"
    if not default.exists():
        if not settings.generate_missing_keys:
            raise SigningKeyError(
                "set SCHAKEL_TOKEN_SIGNING_KEY_FILE (`schakel keys init` makes one)"
            )
        _write_private(default, generate_ed25519_pem())
    return key_from_pem(default.read_bytes())


def _write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(content)

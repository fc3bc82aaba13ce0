"""Partner key pairs and client assertions, for ``schakel keys generate`` and the demo."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeyParameters, OKPKey

from gateway.auth.client_assertion import MAX_JTI_LENGTH

KEY_ALGORITHMS = ("ES256", "EdDSA")


def generate_partner_key(alg: str, kid: str) -> ECKey | OKPKey:
    """A fresh signing key: P-256 for ES256, Ed25519 for EdDSA."""
    parameters: KeyParameters = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters, private=True)
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519", parameters=parameters, private=True)
    raise ValueError(f"unsupported algorithm {alg!r}; choose {' or '.join(KEY_ALGORITHMS)}")


def write_key_pair(key: ECKey | OKPKey, folder: Path) -> tuple[Path, Path]:
    """Write ``private.jwk.json`` (mode 0600) and the public ``jwks.json`` to register."""
    folder.mkdir(parents=True, exist_ok=True)
    private_path = folder / "private.jwk.json"
    private_path.touch(mode=0o600, exist_ok=True)
    private_path.chmod(0o600)
    private_path.write_text(json.dumps(key.as_dict(private=True), indent=2) + "\n")
    public_path = folder / "jwks.json"
    public_path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}, indent=2) + "\n")
    return private_path, public_path


def read_private_key(path: Path) -> ECKey | OKPKey:
    document: dict[str, Any] = json.loads(path.read_text())
    if document.get("kty") == "EC":
        return ECKey.import_key(document)
    return OKPKey.import_key(document)


def sign_client_assertion(
    *, key: ECKey | OKPKey, client_id: str, audience: str, now: datetime, lifetime: timedelta
) -> str:
    """An RFC 7523 §3 client assertion: iss = sub = client id, aud = token endpoint, fresh jti."""
    alg = str(key.get("alg") or ("ES256" if isinstance(key, ECKey) else "EdDSA"))
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": secrets.token_urlsafe(24)[:MAX_JTI_LENGTH],
    }
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims, key, algorithms=[alg])

"""Partner key sets (RFC 7517 JWKS): which keys and algorithms a party may sign assertions with."""

from __future__ import annotations

from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

# Asymmetric only: `none` and the HMAC family can never authenticate a partner (RFC 8725 §3.1).
ALGORITHMS_BY_KEY: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("EC", "P-256"): ("ES256",),
    ("EC", "P-384"): ("ES384",),
    ("OKP", "Ed25519"): ("EdDSA", "Ed25519"),
    ("RSA", None): ("PS256", "RS256"),
}
ACCEPTED_ALGORITHMS = tuple(sorted({alg for algs in ALGORITHMS_BY_KEY.values() for alg in algs}))
PartnerKey = ECKey | OKPKey | RSAKey
INTERCHANGEABLE = frozenset({"EdDSA", "Ed25519"})


class InvalidJwks(ValueError):
    """The key set cannot be registered; the message says which key and why."""


def algorithms_for(key: PartnerKey) -> tuple[str, ...]:
    """The signature algorithms this key may be used with, narrowed by its own ``alg`` member."""
    curve = None if key.key_type == "RSA" else str(key.as_dict(private=False).get("crv"))
    allowed = ALGORITHMS_BY_KEY.get((key.key_type, curve), ())
    declared = key.get("alg")
    if declared in INTERCHANGEABLE:
        # RFC 9864 renamed "EdDSA" for Ed25519 to "Ed25519": one algorithm under two names.
        return tuple(alg for alg in allowed if alg in INTERCHANGEABLE)
    if declared:
        return tuple(alg for alg in allowed if alg == declared)
    return allowed


def parse_partner_jwks(document: Any) -> KeySet:
    """Validate a partner's public JWKS: public signing keys, each with a unique ``kid``."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise InvalidJwks('a JWKS is a JSON object with a "keys" array')
    if not document["keys"]:
        raise InvalidJwks("the JWKS holds no keys")
    seen: set[str] = set()
    for index, member in enumerate(document["keys"]):
        _check_member(index, member, seen)
    try:
        key_set = KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidJwks(f"the JWKS cannot be read: {error}") from None
    for index, key in enumerate(key_set.keys):
        if not isinstance(key, ECKey | OKPKey | RSAKey) or not algorithms_for(key):
            raise InvalidJwks(
                f"keys[{index}] ({key.kid}): unsupported key type or algorithm; "
                f"accepted algorithms are {', '.join(ACCEPTED_ALGORITHMS)}"
            )
        if isinstance(key, RSAKey) and key.public_key.key_size < 2048:
            raise InvalidJwks(f"keys[{index}] ({key.kid}): RSA keys must be at least 2048 bits")
    return key_set


def _check_member(index: int, member: Any, seen: set[str]) -> None:
    if not isinstance(member, dict):
        raise InvalidJwks(f"keys[{index}] is not a JSON object")
    kid = member.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidJwks(f'keys[{index}] has no "kid"; every partner key needs one')
    if kid in seen:
        raise InvalidJwks(f'keys[{index}]: "kid" {kid!r} appears twice')
    seen.add(kid)
    private_members = {"d", "p", "q", "dp", "dq", "qi", "k"} & member.keys()
    if private_members:
        raise InvalidJwks(
            f"keys[{index}] ({kid}) contains private or secret key material "
            f"({', '.join(sorted(private_members))}); register the public key only"
        )
    if member.get("use", "sig") != "sig":
        raise InvalidJwks(f'keys[{index}] ({kid}): "use" must be "sig"')

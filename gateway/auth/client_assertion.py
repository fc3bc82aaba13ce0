"""RFC 7523 §3 client assertions (``private_key_jwt``): verify a partner's signed JWT, refuse replays."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.auth.jwks import ACCEPTED_ALGORITHMS, INTERCHANGEABLE, PartnerKey, algorithms_for
from gateway.errors import AuthenticationFailed
from gateway.registry.models import Party, SeenAssertion
from gateway.registry.service import find_party

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_JTI_LENGTH = 256


@dataclass(frozen=True)
class AssertionRules:
    """``audiences``: the values a single-string ``aud`` may take (the issuer, the token endpoint)."""

    audiences: tuple[str, ...]
    max_lifetime: timedelta
    leeway: timedelta


def invalid_client(detail: str) -> AuthenticationFailed:
    return AuthenticationFailed(detail, error="invalid_client", scheme="private_key_jwt")


def authenticate_client(
    *, session: Session, assertion: str, rules: AssertionRules, now: datetime
) -> Party:
    """Return the party whose registered key signed ``assertion``; raise ``invalid_client`` else.

    The ``jti`` is stored in the caller's transaction: a replay, even after a restart or on another
    gateway process sharing the database, collides with the stored row and is refused.
    """
    header, claims = _unverified_parts(assertion)
    client_id = claims.get("iss")
    if not isinstance(client_id, str) or not client_id or claims.get("sub") != client_id:
        raise invalid_client('"iss" and "sub" must both be the client id')
    party = find_party(session, client_id)
    if party is None or not party.enabled:
        raise invalid_client("unknown or disabled client")
    key = _signing_key(party, header)
    _verify_signature(assertion, key, header["alg"])
    _check_claims(claims, rules, now)
    _remember_jti(session, client_id, claims["jti"], _timestamp(claims["exp"]), now)
    return party


def _unverified_parts(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read header and claims before verifying, only to choose the key; nothing is trusted yet."""
    try:
        compact = jws.extract_compact(assertion.encode("ascii"))
        header = dict(compact.protected)
        claims = _json_object(compact.payload)
    except (JoseError, ValueError, UnicodeError, TypeError):
        raise invalid_client("the client assertion is not a compact JWS") from None
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise invalid_client(
            f"algorithm {alg!r} is not accepted; use one of {', '.join(ACCEPTED_ALGORITHMS)}"
        )
    if "crit" in header:
        raise invalid_client('the "crit" header is not supported')
    return header, claims


def _json_object(payload: bytes) -> dict[str, Any]:
    value = json.loads(payload)
    if not isinstance(value, dict):
        raise ValueError("claims are not a JSON object")
    return value


def _signing_key(party: Party, header: dict[str, Any]) -> PartnerKey:
    key_set = KeySet.import_key_set(party.jwks)  # type: ignore[arg-type]
    candidates = [key for key in key_set.keys if header["alg"] in algorithms_for(key)]  # type: ignore[arg-type]
    kid = header.get("kid")
    if kid is not None:
        candidates = [key for key in candidates if key.kid == kid]
        if not candidates:
            raise invalid_client(
                f"no registered key with kid {kid!r} for algorithm {header['alg']}"
            )
    if len(candidates) != 1:
        raise invalid_client('name the signing key with a "kid" header')
    return candidates[0]  # type: ignore[return-value]


def _verify_signature(assertion: str, key: PartnerKey, alg: str) -> None:
    if alg in INTERCHANGEABLE:
        # joserfc holds a key to its own "alg" member; for Ed25519 either name is the same
        # algorithm (RFC 9864), so verify with the key's material alone.
        key = OKPKey.import_key(
            {name: value for name, value in key.as_dict(private=False).items() if name != "alg"}
        )
    try:
        jws.deserialize_compact(assertion, key, algorithms=[alg])
    except (JoseError, ValueError):
        raise invalid_client("the client assertion signature does not verify") from None


def _check_claims(claims: dict[str, Any], rules: AssertionRules, now: datetime) -> None:
    audience = claims.get("aud")
    if not isinstance(audience, str):
        # draft-ietf-oauth-rfc7523bis §3: an array lets an assertion meant for another server
        # be replayed here (the 2025 private_key_jwt audience finding).
        raise invalid_client('"aud" must be a single string, not an array')
    if audience not in rules.audiences:
        raise invalid_client(f'"aud" must be the token endpoint {rules.audiences[-1]}')
    expires = _timestamp(claims.get("exp"), name="exp")
    if expires <= now - rules.leeway:
        raise invalid_client("the client assertion has expired")
    if expires > now + rules.max_lifetime + rules.leeway:
        seconds = int(rules.max_lifetime.total_seconds())
        raise invalid_client(f'"exp" must be at most {seconds} seconds from now')
    for name in ("iat", "nbf"):
        if name in claims and _timestamp(claims[name], name=name) > now + rules.leeway:
            raise invalid_client(
                f'"{name}" lies in the future; the client assertion is not valid yet'
            )
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise invalid_client(f'"jti" must be a unique string of 1 to {MAX_JTI_LENGTH} characters')


def _timestamp(value: Any, name: str = "exp") -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_client(f'"{name}" must be a NumericDate (seconds since the epoch)')
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise invalid_client(f'"{name}" is out of range') from None


def _remember_jti(
    session: Session, client_id: str, jti: str, expires_at: datetime, now: datetime
) -> None:
    """Persist the ``jti``; a duplicate key means this assertion was used before (RFC 7523 §3 #7)."""
    # Rows whose assertion expired long ago can no longer be replayed (exp is checked first).
    session.execute(delete(SeenAssertion).where(SeenAssertion.expires_at < now - timedelta(days=1)))
    try:
        with session.begin_nested():
            session.add(SeenAssertion(client_id=client_id, jti=jti, expires_at=expires_at))
    except IntegrityError:
        raise invalid_client("this client assertion was used before (jti replay)") from None

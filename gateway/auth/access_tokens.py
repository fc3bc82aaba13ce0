"""Access tokens the gateway issues (RFC 9068-style JWTs, EdDSA) and the check on every request."""

from __future__ import annotations

import secrets
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from sqlalchemy.orm import Session

from dbtypes.kept import kept_for_transaction
from gateway.auth.key_ring import KeyRing
from gateway.errors import AuthenticationFailed, Forbidden
from gateway.registry.models import Party
from gateway.registry.service import PartyStanding, party_standing
from gateway.settings import Settings

TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type (RFC 9068 §2.1), not a secret
ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class Caller:
    """The authenticated partner system behind a request."""

    party: str
    domain: str
    roles: tuple[str, ...]
    purposes: tuple[str, ...]
    token_id: str


def issue_access_token(
    *, key: OKPKey, issuer: str, party: Party, purposes: list[str], now: datetime, ttl: timedelta
) -> str:
    """Sign a short-lived token bound to the party, its domain and the granted purposes (scope)."""
    claims = {
        "iss": issuer,
        "sub": party.id,
        "aud": issuer,
        "client_id": party.id,
        "domain": party.domain,
        "roles": list(party.roles),
        "scope": " ".join(purposes),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": secrets.token_urlsafe(16),
    }
    header = {"alg": ALGORITHM, "typ": TOKEN_TYPE, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


def token_overlap(settings: Settings) -> timedelta:
    """How long a retired token key stays published and accepted: the tokens' lifetime."""
    return timedelta(seconds=settings.access_token_ttl_seconds + settings.clock_skew_seconds)


def invalid_token(detail: str) -> AuthenticationFailed:
    return AuthenticationFailed(detail, error="invalid_token")


@dataclass(frozen=True)
class VerifiedToken:
    """An access token whose signature, issuer and expiry checked out; its party not yet."""

    party: str
    scope: tuple[str, ...]
    token_id: str


def verify_bearer(
    *, keys: KeyRing, issuer: str, token: str, now: datetime, overlap: timedelta
) -> VerifiedToken:
    """The checks that need no database: signature, issuer and audience, expiry.

    After a rotation a token signed by the retired key is accepted for ``overlap`` (the tokens'
    lifetime), so no partner has to fetch a new token at the moment the key changes.
    """
    key = keys.verifying(_kid(token), now, overlap) if keys.retired else keys.current
    if key is None:
        raise invalid_token("the access token is signed by a key this gateway no longer uses")
    claims = _verified_claims(key, token)
    if claims.get("iss") != issuer or claims.get("aud") != issuer:
        raise invalid_token("the access token was not issued by this gateway")
    expires = claims.get("exp")
    if not isinstance(expires, int) or expires <= now.timestamp():
        raise invalid_token("the access token has expired")
    scope = claims.get("scope")
    return VerifiedToken(
        party=str(claims.get("sub")),
        scope=tuple(scope.split()) if isinstance(scope, str) else (),
        token_id=str(claims.get("jti")),
    )


def caller_of(session: Session, token: VerifiedToken) -> Caller:
    """The partner behind a verified token, if its party is still enabled (disabling takes
    effect for the next transaction); its purposes are those of the token that the registry
    still grants."""
    party = _standing_in_transaction(session, token.party)
    if party is None or not party.enabled:
        raise invalid_token("the party of this access token is unknown or disabled")
    return Caller(
        party=party.id,
        domain=party.domain,
        roles=tuple(party.roles),
        purposes=tuple(purpose for purpose in token.scope if purpose in party.purposes),
        token_id=token.token_id,
    )


_STANDINGS = "auth.party_standings"


def _standing_in_transaction(session: Session, party_id: str) -> PartyStanding | None:
    """The party's standing, read once per transaction.

    The requests of one batch share a transaction (gateway/core/batch_writer.py); they were all
    waiting when it began, and on SQLite they read the same snapshot anyway.
    """
    standings = kept_for_transaction(session, _STANDINGS, dict[str, PartyStanding | None])
    if standings is None:
        return party_standing(session, party_id)
    if party_id not in standings:
        standings[party_id] = party_standing(session, party_id)
    return standings[party_id]


_VERIFIED_CACHE_SIZE = 4096
_verified: dict[tuple[int, str], tuple[weakref.ref[OKPKey], dict[str, Any]]] = {}
_verified_lock = threading.Lock()


def _verified_claims(key: OKPKey, token: str) -> dict[str, Any]:
    """The claims of a token whose signature ``key`` verifies.

    A partner sends the same token on every request for its lifetime; the signature check of
    a given token under a given key cannot change, so it is remembered (for a bounded number of
    tokens). Expiry and the party's standing are checked by the caller on every request.
    """
    remembered = _verified.get((id(key), token))
    if remembered is not None and remembered[0]() is key:
        return dict(remembered[1])
    claims = _signature_checked_claims(key, token)
    with _verified_lock:
        if len(_verified) >= _VERIFIED_CACHE_SIZE:
            del _verified[next(iter(_verified))]  # the oldest
        _verified[(id(key), token)] = (weakref.ref(key), claims)
    return dict(claims)


def _signature_checked_claims(key: OKPKey, token: str) -> dict[str, Any]:
    try:
        decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
    except (JoseError, ValueError, UnicodeError, TypeError):
        raise invalid_token(
            "the access token is malformed or its signature does not verify"
        ) from None
    if decoded.header.get("typ") != TOKEN_TYPE:
        raise invalid_token("not an access token of this gateway")
    return dict(decoded.claims)


def _kid(token: str) -> str | None:
    try:
        kid = jws.extract_compact(token.encode("ascii")).protected.get("kid")
    except (JoseError, ValueError, UnicodeError):
        raise invalid_token("the access token is malformed") from None
    return kid if isinstance(kid, str) else None


def check_scope(caller: Caller, purpose: str) -> None:
    """Purpose binding at the token: the access token must carry the purpose (RFC 6749 §3.3)."""
    if purpose not in caller.purposes:
        raise Forbidden("the access token does not carry the purpose of this request")

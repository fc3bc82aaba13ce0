"""Participant authentication: an OpenID Connect provider's JWT (a DigiD broker), or demo login.

One dependency decides who the participant is. Tokens are verified against the issuer's JWKS
(fetched and cached; fetched again once when an unknown ``kid`` appears, for key rotation).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

from bsn import is_valid_bsn
from gateway.errors import AuthenticationFailed
from gateway.settings import Settings

PARTICIPANT_ALGORITHMS = ["ES256", "ES384", "EdDSA", "Ed25519", "PS256", "RS256"]
DEMO_AUDIENCE = "schakel-participant"
JWKS_CACHE_SECONDS = 300


@dataclass(frozen=True)
class ParticipantIdentity:
    """What a verified participant token tells: the BSN, and which login it came from."""

    bsn: str
    issuer: str


def unauthenticated(detail: str) -> AuthenticationFailed:
    return AuthenticationFailed(detail, error="invalid_token")


class RemoteJwks:
    """An issuer's JWKS over HTTPS, cached; fetched again on an unknown ``kid`` (a key rollover),
    at most once a second so made-up ``kid`` values cannot make the gateway hammer the issuer."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self._keys: KeySet | None = None
        self._fetched = 0.0
        self._lock = threading.Lock()

    def key_set(self, kid: str | None) -> KeySet:
        with self._lock:
            age = time.monotonic() - self._fetched
            stale = self._keys is None or age > JWKS_CACHE_SECONDS
            unknown = kid is not None and self._keys is not None and not _has_kid(self._keys, kid)
            if stale or (unknown and age > 1):
                self._keys = self._fetch()
                self._fetched = time.monotonic()
            assert self._keys is not None
            return self._keys

    def _fetch(self) -> KeySet:
        try:
            response = httpx.get(self.url, timeout=self.timeout)
            response.raise_for_status()
            return KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as error:
            # Fail closed: no keys, no participant.
            raise AuthenticationFailed(
                f"the identity provider's keys cannot be fetched: {type(error).__name__}",
                error="invalid_token",
            ) from None


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


class ParticipantVerifier:
    """Verifies participant tokens from the configured issuer and, if enabled, the demo login."""

    def __init__(self, settings: Settings, demo_key: OKPKey) -> None:
        self.settings = settings
        self.demo_key = demo_key
        self.remote: RemoteJwks | None = None
        if settings.participant_oidc_issuer:
            url = settings.participant_oidc_jwks_url or (
                f"{settings.participant_oidc_issuer}/.well-known/jwks.json"
            )
            self.remote = RemoteJwks(url)

    def verify(self, token: str, now: datetime) -> ParticipantIdentity:
        header, claimed_issuer = _unverified(token)
        issuer, audience, trusted = self._trust_for(claimed_issuer)
        keys = trusted if isinstance(trusted, KeySet) else trusted.key_set(header.get("kid"))
        try:
            decoded = jwt.decode(token, keys, algorithms=PARTICIPANT_ALGORITHMS)
        except (JoseError, ValueError):
            raise unauthenticated("the participant token does not verify") from None
        claims = decoded.claims
        self._not_an_id_token(claims)
        _check_claims(claims, issuer=issuer, audience=audience, now=now)
        bsn = claims.get(self.settings.participant_bsn_claim)
        if not isinstance(bsn, str) or not is_valid_bsn(bsn):
            raise unauthenticated("the participant token carries no valid BSN")
        return ParticipantIdentity(bsn=bsn, issuer=issuer)

    def _not_an_id_token(self, claims: dict[str, Any]) -> None:
        """An ID token tells the client who signed in; it never opens the API (OpenID Connect
        Core §2 names the client as its audience; a ``nonce`` belongs to ID tokens alone)."""
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        client_id = self.settings.participant_oidc_client_id
        if "nonce" in claims or (client_id is not None and client_id in audiences):
            raise unauthenticated(
                "an ID token is not an access token; send the identity provider's access token"
            )

    def _trust_for(self, issuer: str) -> tuple[str, str, KeySet | RemoteJwks]:
        settings = self.settings
        if self.remote is not None and issuer == settings.participant_oidc_issuer:
            return issuer, settings.participant_oidc_audience, self.remote
        if settings.demo_login and issuer == settings.demo_participant_issuer:
            return issuer, DEMO_AUDIENCE, KeySet([self.demo_key])
        raise unauthenticated(
            "the participant token comes from an issuer this gateway does not trust"
        )

    def issue_demo_token(self, bsn: str, now: datetime) -> str:
        claims = {
            "iss": self.settings.demo_participant_issuer,
            "aud": DEMO_AUDIENCE,
            "sub": f"demo-{bsn[-4:]}",
            self.settings.participant_bsn_claim: bsn,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(hours=1)).timestamp()),
        }
        header = {"alg": "EdDSA", "typ": "JWT", "kid": self.demo_key.kid}
        return jwt.encode(header, claims, self.demo_key, algorithms=["EdDSA"])


def _unverified(token: str) -> tuple[dict[str, Any], str]:
    """Header and issuer, only to pick the keys to verify with; nothing is trusted before that."""
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError):
        raise unauthenticated("the participant token is not a JWT") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str):
        raise unauthenticated('the participant token has no "iss"')
    return dict(compact.protected), issuer


def _check_claims(claims: dict[str, Any], *, issuer: str, audience: str, now: datetime) -> None:
    if claims.get("iss") != issuer:
        raise unauthenticated("the participant token has the wrong issuer")
    audiences = claims.get("aud")
    if audience not in (audiences if isinstance(audiences, list) else [audiences]):
        raise unauthenticated(f'the participant token must name "{audience}" as audience')
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires <= now.timestamp():
        raise unauthenticated("the participant token has expired")
    not_before = claims.get("nbf")
    if isinstance(not_before, int | float) and not_before > now.timestamp() + 30:
        raise unauthenticated("the participant token is not valid yet")

"""Signing people in at an OpenID Connect provider: the authorization code flow with PKCE.

OpenID Connect Core 1.0 §3.1 with RFC 7636 (S256), ``state`` against login CSRF and ``nonce``
against ID-token replay. The request and the callback are built and read by Authlib; the ID
token is checked in full (§3.1.3.7): signature by a key of the issuer's JWKS (cached, fetched
again for an unknown ``kid`` so the provider can roll its keys over), issuer, audience and
``azp``, expiry and issue time, ``nonce``, and the assurance level (``acr``) where one is required.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.parameters import (
    parse_authorization_code_response,
    prepare_grant_uri,
    prepare_token_request,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError

from gateway.auth.participant_tokens import JWKS_CACHE_SECONDS, RemoteJwks
from gateway.errors import AuthenticationFailed

# Asymmetric only: an ID token signed with the client secret (HS256) or not at all is refused.
ID_TOKEN_ALGORITHMS = ("ES256", "ES384", "EdDSA", "Ed25519", "PS256", "RS256")
HTTP_TIMEOUT = 5.0


class SignInRefused(Exception):
    """A sign-in that must not become a session; ``reason`` is a short code for the audit entry
    and the page, ``detail`` the text a person reads."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in under way: what the callback must find again."""

    provider: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class ProviderConfig:
    """One OpenID provider as the operator configured it."""

    name: str
    issuer: str
    client_id: str
    client_secret: str | None
    scope: str = "openid"
    # Assurance levels from low to high, and the lowest accepted; none: any level.
    acr_levels: tuple[str, ...] = ()
    minimum_acr: str | None = None


@dataclass(frozen=True)
class ProviderMetadata:
    """What OpenID Connect Discovery 1.0 tells of a provider, as far as the code flow needs."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class RelyingParty:
    """The gateway as the client of one OpenID provider."""

    def __init__(self, config: ProviderConfig, *, leeway_seconds: int) -> None:
        self.config = config
        self.leeway = leeway_seconds
        self._metadata: ProviderMetadata | None = None
        self._fetched = 0.0
        self._jwks: RemoteJwks | None = None
        self._lock = threading.Lock()

    def begin(self, *, redirect_uri: str) -> tuple[str, PendingSignIn]:
        """The provider's authorization URL to send the browser to, and what to keep till back."""
        config = self.config
        pending = PendingSignIn(
            provider=config.name, state=generate_token(32), nonce=generate_token(32),
            code_verifier=generate_token(64),
        )  # fmt: skip
        extra: dict[str, str] = {}
        if config.minimum_acr is not None:
            # A request only (§3.1.2.1); the level is checked on the ID token all the same.
            lowest = config.acr_levels.index(config.minimum_acr)
            extra["acr_values"] = " ".join(config.acr_levels[lowest:])
        url = prepare_grant_uri(
            self.metadata().authorization_endpoint, config.client_id, "code",
            redirect_uri=redirect_uri, scope=config.scope, state=pending.state,
            nonce=pending.nonce, code_challenge=create_s256_code_challenge(pending.code_verifier),
            code_challenge_method="S256", **extra,
        )  # fmt: skip
        return str(url), pending

    def finish(
        self,
        pending: PendingSignIn,
        callback_query: Mapping[str, str],
        *,
        redirect_uri: str,
        now: datetime,
    ) -> dict[str, Any]:
        """The verified claims of the ID token the callback's code is exchanged for."""
        if pending.provider != self.config.name:
            raise SignInRefused("state", "this sign-in was started for another provider")
        code = self._code(pending, callback_query, redirect_uri)
        id_token = self._exchange(code, pending, redirect_uri)
        return self._verified_claims(id_token, pending, now)

    def _code(self, pending: PendingSignIn, query: Mapping[str, str], redirect_uri: str) -> str:
        given_state = query.get("state", "")
        if not hmac.compare_digest(given_state.encode(), pending.state.encode()):
            raise SignInRefused("state", "the sign-in's state does not match; start again")
        if "error" in query:
            raise SignInRefused("provider-error", f"the provider refused: {query['error'][:100]}")
        try:
            answer = parse_authorization_code_response(
                f"{redirect_uri}?{urlencode(dict(query))}", state=pending.state
            )
        except OAuth2Error as error:
            detail = f"the sign-in's answer is not usable: {error.error}"
            raise SignInRefused("callback", detail) from None
        return str(answer["code"])

    def _exchange(self, code: str, pending: PendingSignIn, redirect_uri: str) -> str:
        """RFC 6749 §4.1.3 with the PKCE verifier; the client authenticates with its secret."""
        config = self.config
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_uri,
            code_verifier=pending.code_verifier, client_id=config.client_id,
        )  # fmt: skip
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if config.client_secret is not None:
            # RFC 6749 §2.3.1: both parts form-encoded before the Basic encoding.
            basic = httpx.BasicAuth(
                quote(config.client_id, safe=""), quote(config.client_secret, safe="")
            )
        try:
            response = httpx.post(
                self.metadata().token_endpoint, content=body, headers=headers,
                auth=basic if config.client_secret is not None else None, timeout=HTTP_TIMEOUT,
            )  # fmt: skip
            answer = response.json()
        except (httpx.HTTPError, ValueError):
            raise SignInRefused("token", "the provider's token endpoint did not answer") from None
        if response.status_code != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise SignInRefused("token", f"the provider refused the code: {error or 'no reason'}")
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused("id-token", "the provider returned no ID token")
        return id_token

    def _verified_claims(self, token: str, pending: PendingSignIn, now: datetime) -> dict[str, Any]:
        config = self.config
        try:
            header = jws.extract_compact(token.encode("ascii")).protected
            keys = self._keys().key_set(header.get("kid"))
            claims = dict(jwt.decode(token, keys, algorithms=list(ID_TOKEN_ALGORITHMS)).claims)
        except (JoseError, ValueError, UnicodeError):
            raise SignInRefused("id-token", "the ID token's signature does not verify") from None
        except AuthenticationFailed as error:
            raise SignInRefused("id-token", error.detail) from None
        if claims.get("iss") != config.issuer:
            raise SignInRefused("id-token", "the ID token comes from another issuer")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if config.client_id not in audiences:
            raise SignInRefused("id-token", "the ID token is meant for another client")
        if len(audiences) > 1 and claims.get("azp") != config.client_id:
            raise SignInRefused("id-token", 'the ID token names other audiences without "azp"')
        if "azp" in claims and claims["azp"] != config.client_id:
            raise SignInRefused("id-token", "the ID token was issued to another client (azp)")
        moment = now.timestamp()
        expires, issued = claims.get("exp"), claims.get("iat")
        if not isinstance(expires, int | float) or expires <= moment - self.leeway:
            raise SignInRefused("expired", "the ID token has expired; sign in again")
        if not isinstance(issued, int | float) or issued > moment + self.leeway:
            raise SignInRefused("id-token", "the ID token was issued in the future")
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce, pending.nonce):
            raise SignInRefused("nonce", "the ID token's nonce is not this sign-in's")
        self._check_acr(claims.get("acr"))
        return claims

    def _check_acr(self, acr: object) -> None:
        config = self.config
        if config.minimum_acr is None:
            return
        levels = config.acr_levels
        if not isinstance(acr, str) or acr not in levels:
            raise SignInRefused("acr", "the sign-in's assurance level is unknown")
        if levels.index(acr) < levels.index(config.minimum_acr):
            raise SignInRefused("acr", "the sign-in's assurance level is too low")

    def metadata(self) -> ProviderMetadata:
        """The provider's discovery document, cached; its issuer must be the configured one."""
        with self._lock:
            fresh = time.monotonic() - self._fetched < JWKS_CACHE_SECONDS
            if self._metadata is not None and fresh:
                return self._metadata
            url = f"{self.config.issuer}/.well-known/openid-configuration"
            try:
                response = httpx.get(url, timeout=HTTP_TIMEOUT)
                response.raise_for_status()
                document = response.json()
                if document["issuer"] != self.config.issuer:
                    raise ValueError("the discovery document names another issuer")
                self._metadata = ProviderMetadata(
                    authorization_endpoint=str(document["authorization_endpoint"]),
                    token_endpoint=str(document["token_endpoint"]),
                    jwks_uri=str(document["jwks_uri"]),
                )
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
                raise SignInRefused(
                    "provider-unavailable",
                    f"the sign-in provider cannot be reached ({type(error).__name__})",
                ) from None
            self._fetched = time.monotonic()
            return self._metadata

    def _keys(self) -> RemoteJwks:
        uri = self.metadata().jwks_uri
        if self._jwks is None or self._jwks.url != uri:
            self._jwks = RemoteJwks(uri)
        return self._jwks

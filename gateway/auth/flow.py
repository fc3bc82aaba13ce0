"""The token endpoint's steps (RFC 6749 §4.4 client credentials, RFC 7523 client authentication):
authenticate the client's assertion, grant the purposes asked for, sign the access token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from gateway.auth.access_tokens import issue_access_token
from gateway.auth.client_assertion import (
    ASSERTION_TYPE,
    AssertionRules,
    authenticate_client,
    invalid_client,
)
from gateway.errors import GatewayError
from gateway.registry.models import Party
from gateway.runtime import Runtime


class OAuthError(GatewayError):
    """RFC 6749 §5.2 errors other than client authentication (400)."""

    slug = "oauth-error"
    title = "Token request refused"

    def __init__(self, detail: str, *, error: str) -> None:
        super().__init__(detail, error=error, error_description=detail)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    purposes: list[str]


def grant_token(session: Session, runtime: Runtime, form: dict[str, str]) -> IssuedToken:
    """Check the token request's form, authenticate the client, issue a token for its purposes."""
    if form.get("grant_type") != "client_credentials":
        raise OAuthError('grant_type must be "client_credentials"', error="unsupported_grant_type")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise invalid_client(f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion")
    if not assertion:
        raise invalid_client("client_assertion is required")
    settings = runtime.settings
    now = runtime.clock()
    party = authenticate_client(
        session=session,
        assertion=assertion,
        rules=AssertionRules(
            audiences=(settings.issuer, settings.token_endpoint),
            max_lifetime=timedelta(seconds=settings.assertion_max_lifetime_seconds),
            leeway=timedelta(seconds=settings.clock_skew_seconds),
        ),
        now=now,
    )
    if form.get("client_id", party.id) != party.id:
        raise invalid_client("client_id does not match the client assertion")
    purposes = _granted_purposes(party, form.get("scope"))
    ttl = timedelta(seconds=settings.access_token_ttl_seconds)
    access_token = issue_access_token(
        key=runtime.token_key,
        issuer=settings.issuer,
        party=party,
        purposes=purposes,
        now=now,
        ttl=ttl,
    )
    return IssuedToken(access_token, settings.access_token_ttl_seconds, purposes)


def _granted_purposes(party: Party, scope: str | None) -> list[str]:
    """Grant the requested purposes, all of which the party must be registered for (RFC 6749 §3.3)."""
    if scope is None or not scope.strip():
        return sorted(party.purposes)
    requested = sorted(set(scope.split()))
    refused = [purpose for purpose in requested if purpose not in party.purposes]
    if refused:
        raise OAuthError(
            f"not registered for purpose(s): {', '.join(refused)}; "
            f"registered: {', '.join(sorted(party.purposes)) or 'none'}",
            error="invalid_scope",
        )
    return requested

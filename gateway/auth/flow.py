"""The token endpoint's steps (RFC 6749 §4.4 client credentials, RFC 7523 client authentication):
authenticate the client's assertion, grant the purposes asked for, sign the access token. And the
steps after a person's OpenID Connect sign-in: who the participant is; which roles an officer's
sign-in grants, on record."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from bsn import holds_bsn, is_valid_bsn
from gateway.auth.access_tokens import issue_access_token
from gateway.auth.client_assertion import (
    ASSERTION_TYPE,
    AssertionRules,
    authenticate_client,
    invalid_client,
)
from gateway.auth.oidc import SignInRefused
from gateway.auth.sign_in_providers import OfficerProvider
from gateway.errors import GatewayError
from gateway.identity.models import Participant
from gateway.identity.vault import enrol
from gateway.registry.models import Party
from gateway.registry.service import find_party
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


SIGN_IN_ACTION = Action.OFFICER_SIGN_IN


def participant_of(session: Session, runtime: Runtime, claims: Mapping[str, Any]) -> Participant:
    """The participant an ID token names by BSN, enrolled on first sign-in."""
    bsn = claims.get(runtime.settings.participant_bsn_claim)
    if not isinstance(bsn, str) or not is_valid_bsn(bsn):
        raise SignInRefused("id-token", "the sign-in names no valid BSN")
    return enrol(
        session=session, keys=runtime.identity_keys, bsn=bsn,
        domains=runtime.catalogue.domains, now=runtime.clock(),
    )  # fmt: skip


@dataclass(frozen=True)
class OfficerSignIn:
    """Who signed in for which party, with which of the gateway's roles."""

    party: str
    domain: str
    user: str
    roles: list[str]


def officer_signed_in(
    session: Session, runtime: Runtime, provider: OfficerProvider, claims: Mapping[str, Any],
    trace_id: str | None,
) -> OfficerSignIn:  # fmt: skip
    """The roles the person's groups grant that their party holds; the sign-in is an audit entry.

    A refusal raises ``SignInRefused`` after its entry is written: the caller commits it.
    """
    party = find_party(session, provider.party)
    user = provider.user_of(claims)
    granted = provider.roles_of(claims)
    roles = [role for role in granted if party is not None and role in party.roles]
    refusal = None
    if party is None or not party.enabled:
        refusal = SignInRefused("party-disabled", "this organisation is not enabled")
    elif user is None:
        refusal = SignInRefused("id-token", f'the sign-in has no "{provider.user_claim}" claim')
    elif not roles:
        refusal = SignInRefused("no-role", "this sign-in grants no role at this gateway")
    record_sign_in(
        session, runtime, party=provider.party, trace_id=trace_id,
        outcome=Outcome.DENY if refusal else Outcome.OK,
        reason=refusal.reason if refusal else f"roles: {', '.join(roles)}",
        user=user,
    )  # fmt: skip
    if refusal is not None:
        raise refusal
    assert party is not None and user is not None
    return OfficerSignIn(party=party.id, domain=party.domain, user=user, roles=roles)


def record_sign_in(
    session: Session, runtime: Runtime, *, party: str, trace_id: str | None, outcome: Outcome,
    reason: str, user: str | None,
) -> None:  # fmt: skip
    """An officer's or operator's sign-in, or its refusal, as an audit entry."""
    found = find_party(session, party)
    runtime.trail.record(
        session, trace_id=trace_id, actor_party=party,
        actor_domain=found.domain if found is not None else "unknown",
        actor_user=None if user is None else audit_user_id(user), action=SIGN_IN_ACTION,
        outcome=outcome, reason=reason[:1000],
    )  # fmt: skip


def audit_user_id(user: str) -> str:
    """A provider's user id as the audit entry's ``actor_user``: as given when it fits the
    member (64 printable characters, no BSN), else a digest of it that still finds every
    sign-in of that person."""
    if len(user) <= 64 and user.isprintable() and not holds_bsn(user):
        return user
    return "sha256:" + hashlib.sha256(user.encode("utf-8")).hexdigest()[:57]

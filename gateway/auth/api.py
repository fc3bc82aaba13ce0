"""The OAuth 2.0 token endpoint (RFC 6749 §4.4 with RFC 7523 client authentication) and key sets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.auth.access_tokens import ALGORITHM, issue_access_token
from gateway.auth.client_assertion import (
    ASSERTION_TYPE,
    AssertionRules,
    authenticate_client,
    invalid_client,
)
from gateway.auth.jwks import ACCEPTED_ALGORITHMS
from gateway.auth.signing_key import public_jwks
from gateway.deps import RuntimeDep, SessionDep
from gateway.errors import GatewayError
from gateway.registry.models import Party

router = APIRouter(tags=["authentication"])

TOKEN_FORM_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type", "client_assertion_type", "client_assertion"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_assertion_type": {"type": "string", "enum": [ASSERTION_TYPE]},
                        "client_assertion": {
                            "type": "string",
                            "description": "JWT signed with the party's registered key",
                        },
                        "client_id": {"type": "string"},
                        "scope": {
                            "type": "string",
                            "description": "Space-separated purposes; default all registered",
                        },
                    },
                }
            }
        },
    }
}


class OAuthError(GatewayError):
    """RFC 6749 §5.2 errors other than client authentication (400)."""

    slug = "oauth-error"
    title = "Token request refused"

    def __init__(self, detail: str, *, error: str) -> None:
        super().__init__(detail, error=error, error_description=detail)


@router.post(
    "/oauth/token",
    summary="Exchange a signed client assertion for an access token",
    openapi_extra=TOKEN_FORM_SCHEMA,
    response_description="An RFC 6749 §5.1 access token response",
)
async def token(request: Request, runtime: RuntimeDep, session: SessionDep) -> JSONResponse:
    form = await _token_form(request)
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
            audience=settings.token_endpoint,
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
    return JSONResponse(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": settings.access_token_ttl_seconds,
            "scope": " ".join(purposes),
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


async def _token_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError(
            "the token request must be application/x-www-form-urlencoded", error="invalid_request"
        )
    try:
        fields = parse_qs((await request.body()).decode("utf-8"), strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError("the token request is not UTF-8", error="invalid_request") from None
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        # RFC 6749 §3.2: request parameters MUST NOT be included more than once.
        raise OAuthError(f"parameter repeated: {', '.join(repeated)}", error="invalid_request")
    return {name: values[0] for name, values in fields.items()}


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


@router.get("/.well-known/jwks.json", summary="Public keys that sign the gateway's access tokens")
def gateway_jwks(runtime: RuntimeDep) -> dict[str, Any]:
    return public_jwks(runtime.token_key)


@router.get(
    "/.well-known/oauth-authorization-server",
    summary="RFC 8414 authorization server metadata",
)
def authorization_server_metadata(runtime: RuntimeDep) -> dict[str, Any]:
    settings = runtime.settings
    return {
        "issuer": settings.issuer,
        "token_endpoint": settings.token_endpoint,
        "jwks_uri": f"{settings.public_url}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ACCEPTED_ALGORITHMS),
        "scopes_supported": sorted(runtime.catalogue.purposes),
        "access_token_signing_alg_values_supported": [ALGORITHM],
    }

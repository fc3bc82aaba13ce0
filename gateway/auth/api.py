"""The OAuth 2.0 token endpoint (RFC 6749 §4.4 with RFC 7523 client authentication), the key sets,
the authorization server metadata (RFC 8414), and ``/v1/whoami``. Steps: ``gateway.auth.flow``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway.auth import flow
from gateway.auth.access_tokens import token_overlap
from gateway.auth.client_assertion import ASSERTION_TYPE
from gateway.auth.flow import OAuthError
from gateway.auth.jwks import ACCEPTED_ALGORITHMS
from gateway.deps import PartnerDep, RuntimeDep, SessionDep

router = APIRouter(tags=["authentication"])
JWS_COMPACT = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"

TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An RFC 6749 §5.1 access token response",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["access_token", "token_type", "expires_in", "scope"],
                    "properties": {
                        "access_token": {"type": "string"},
                        "token_type": {"const": "Bearer"},
                        "expires_in": {"type": "integer"},
                        "scope": {"type": "string", "description": "The granted purposes"},
                    },
                }
            }
        },
    },
    400: {"description": "RFC 6749 §5.2: invalid_request, unsupported_grant_type, invalid_scope"},
    401: {"description": "RFC 6749 §5.2 invalid_client: the client assertion does not verify"},
}

TOKEN_FORM_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type", "client_assertion_type", "client_assertion"],
                    # RFC 6749 §3.2: other parameters are ignored, but none may be repeated.
                    "additionalProperties": {"type": "string"},
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_assertion_type": {"type": "string", "enum": [ASSERTION_TYPE]},
                        "client_assertion": {
                            "type": "string",
                            "minLength": 1,
                            "pattern": JWS_COMPACT,
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


@router.post(
    "/oauth/token",
    summary="Exchange a signed client assertion for an access token",
    openapi_extra=TOKEN_FORM_SCHEMA,
    responses=TOKEN_RESPONSES,
)
async def token(request: Request, runtime: RuntimeDep, session: SessionDep) -> JSONResponse:
    form = await _token_form(request)
    issued = flow.grant_token(session, runtime, form)
    return JSONResponse(
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.purposes),
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


@router.get(
    "/.well-known/jwks.json",
    summary="Public keys that sign the gateway's access tokens, a retired one until its tokens expire",
)
def gateway_jwks(runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.token_keys.jwks(runtime.clock(), token_overlap(runtime.settings))


@router.get(
    "/v1/receipt-keys",
    summary="Public keys that sign consent receipts: the current one and every retired one",
)
def receipt_jwks(runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.receipt_keys.jwks(runtime.clock(), None)


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
        # RFC 8414 §2 requires the member; the gateway has no authorization endpoint, so no
        # response type is supported.
        "response_types_supported": [],
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ACCEPTED_ALGORITHMS),
        "scopes_supported": sorted(runtime.catalogue.purposes),
        "service_documentation": f"{settings.public_url}/docs",
    }


class CallerView(BaseModel):
    party: str
    domain: str
    roles: list[str]
    purposes: list[str]


@router.get(
    "/v1/whoami",
    summary="The party, domain, roles and purposes of the access token",
    tags=["partners"],
)
def whoami(caller: PartnerDep) -> CallerView:
    return CallerView(
        party=caller.party,
        domain=caller.domain,
        roles=list(caller.roles),
        purposes=list(caller.purposes),
    )

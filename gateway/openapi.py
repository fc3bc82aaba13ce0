"""The OpenAPI 3.1 document as the API answers, built once per app by walking its routes.

FastAPI writes each operation from its signature; this adds what the gateway answers around
it, in one place, so a route added later is documented the same way: errors as RFC 9457
``application/problem+json`` (one ``Problem`` schema), the statuses an operation's
dependencies can answer (400, 401, 404, 413, 415, 503), the bearer scheme each one needs, and
the ``API-Version`` header of the NL GOV API Design Rules (ADR 2.2, ``/core/version-header``).
Paths under ``/v1`` are relative to a server URL that names the major version
(``/core/uri-version``); the others carry a server of their own. Deviations: docs/api-design-rules.md.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from gateway import deps
from gateway.disclosures.render import FHIR_JSON

API_VERSION = "1.0.0"
MAJOR_PREFIX = "/v" + API_VERSION.split(".", 1)[0]
PROBLEM_JSON = "application/problem+json"
PROBLEM = {"$ref": "#/components/schemas/Problem"}
VERSION_HEADER = {"API-Version": {"$ref": "#/components/headers/API-Version"}}

PROBLEM_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details; `errors` names each offending field",
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri", "description": "What kind of problem"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "What went wrong, for a person"},
            "instance": {"type": "string", "description": "The path of the request"},
            "trace_id": {"type": "string", "description": "W3C trace id of the request"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemError"}},
            "error": {"type": "string", "description": "RFC 6749 §5.2 / RFC 6750 §3.1 code"},
            "error_description": {"type": "string"},
            "reason": {"type": "string", "description": "A machine-readable reason code"},
            "valid_values": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ProblemError": {
        "title": "ProblemError",
        "description": "One offending field: a JSON Pointer (RFC 6901), a parameter or a location "
        "in a partner payload (FHIRPath, XPath)",
        "type": "object",
        "required": ["detail"],
        "properties": {
            "pointer": {"type": "string"},
            "parameter": {"type": "string"},
            "location": {"type": "string"},
            "detail": {"type": "string"},
        },
    },
}

HEADERS: dict[str, Any] = {
    "API-Version": {
        "description": "The full version of this API (semantic versioning)",
        "schema": {"type": "string", "example": API_VERSION},
    },
    "WWW-Authenticate": {
        "description": "The bearer challenge (RFC 6750 §3), with the error code",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds after which a retry may succeed",
        "schema": {"type": "string"},
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "partnerToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from `POST /oauth/token` (client credentials with a "
        "`private_key_jwt` client assertion, RFC 7523)",
    },
    "actingUser": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Schakel-User",
        "description": "The professional acting at the partner, as the partner system's own "
        "opaque, stable user id (1 to 64 printable characters, no spaces, never a BSN), like "
        "X-Road's X-Road-UserId. Required, with the partner token, where case data is read "
        "(NEN 7513); it is kept in the audit entry. Not a secret: it names, it does not prove.",
    },
    "participantToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The participant's token from their identity provider (a DigiD broker)",
    },
}

# What each common status means when a dependency, not the route, answers it.
COMMON: dict[int, str] = {
    400: "The request does not match this document: malformed JSON, or a field or parameter "
    "of the wrong form (`errors` names each)",
    401: "No valid access token (see `WWW-Authenticate`)",
    404: "Nothing is found at this path, or it is not yours to see",
    413: "The body is over the size limit",
    415: "The body is not of a media type this operation takes",
    503: "The database is busy or unavailable; nothing was changed (see `Retry-After`)",
}
RESPONSE_HEADERS = {401: "WWW-Authenticate", 503: "Retry-After"}
# Schemas with a rule in code that JSON Schema cannot state; a body that holds one can be a 422.
RULE_BOUND = {"SubjectRef": "A BSN that fails the 11-proof (the rule in code behind `bsn`)"}
# What any JSON body can break that its schema does not say (gateway.core.middleware, bsn).
TEXT_RULES = (
    "Text in the body holds a NUL character (`\\u0000`), or free text holds a number that "
    "passes for a BSN (`errors` names where)"
)


def fhir_schema(resource_type: str) -> dict[str, Any]:
    """One FHIR R4 resource; its full schema is FHIR's own (hl7.org/fhir/R4/fhir.schema.json)."""
    return {
        "type": "object",
        "description": f"An HL7 FHIR R4 {resource_type} resource",
        "required": ["resourceType"],
        "properties": {"resourceType": {"const": resource_type}},
    }


def fhir_answer(resource_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """A 200 that is one FHIR R4 resource of ``resource_type``, as ``application/fhir+json``."""
    content = {FHIR_JSON: {"schema": fhir_schema(resource_type)}}
    return {200: {"description": description, "content": content}}


@dataclass(frozen=True)
class Needs:
    """What an operation's dependencies show about what it can answer."""

    partner: bool
    participant: bool
    acting_user: bool
    database: bool
    json_body: bool
    input: bool
    path_parameters: bool


def install_openapi(app: FastAPI, *, public_url: str, contact: dict[str, str]) -> None:
    """Serve this module's document at ``/openapi.json`` (built at the first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, public_url=public_url, contact=contact)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI, *, public_url: str, contact: dict[str, str]) -> dict[str, Any]:
    spec = get_openapi(
        title=app.title,
        version=API_VERSION,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        contact=contact,
        license_info={"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        servers=[{"url": public_url.rstrip("/") + MAJOR_PREFIX}],
    )
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(copy.deepcopy(PROBLEM_SCHEMAS))
    components["headers"] = copy.deepcopy(HEADERS)
    components["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    for route, _method, operation in _operations(app, spec):
        _complete(operation, _needs(route))
        _rule_bound_input(operation, schemas)
        _text_rules(operation)
    spec["paths"] = _relative_to_servers(spec["paths"], public_url.rstrip("/"))
    _collapse_nullable(spec)
    return spec


def _operations(app: FastAPI, spec: dict[str, Any]) -> Iterator[tuple[Any, str, Any]]:
    """Each documented operation with its route (as included, prefix and all)."""
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            operation = spec["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                yield route, method, operation


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    yield dependant.call
    for dependency in dependant.dependencies:
        yield from _calls(dependency)


def _parameters(dependant: Dependant) -> Iterator[str]:
    for kind in ("path", "query", "header", "cookie"):
        for _ in getattr(dependant, f"{kind}_params"):
            yield kind
    for dependency in dependant.dependencies:
        yield from _parameters(dependency)


def _needs(route: Any) -> Needs:
    calls = set(_calls(route.dependant))
    parameters = list(_parameters(route.dependant))
    partner = deps.get_bearer in calls
    participant = deps.get_participant in calls
    json_body = route.body_field is not None
    form_body = "requestBody" in (route.openapi_extra or {})
    return Needs(
        partner=partner,
        participant=participant,
        acting_user=deps.get_acting_user in calls,
        database=bool(calls & {deps.get_session, deps.get_caller, deps.get_participant}),
        json_body=json_body,
        input=json_body or form_body or bool(parameters),
        path_parameters="path" in parameters,
    )


def _complete(operation: dict[str, Any], needs: Needs) -> None:
    """Add the statuses the dependencies answer, problem+json on errors, the version header."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if _is_generated_validation(responses.get("422")):
        del responses["422"]
    common = {
        400: needs.input,
        401: needs.partner or needs.participant,
        404: needs.path_parameters,
        413: needs.json_body or "requestBody" in operation,
        415: needs.json_body,
        503: needs.database,
    }
    for common_status, applies in common.items():
        if applies:
            responses.setdefault(str(common_status), {"description": COMMON[common_status]})
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers.update(VERSION_HEADER)
        if int(status) >= 400:
            response["content"] = {PROBLEM_JSON: {"schema": PROBLEM}}
            extra = RESPONSE_HEADERS.get(int(status))
            if extra is not None:
                headers[extra] = {"$ref": f"#/components/headers/{extra}"}
    operation["responses"] = dict(sorted(responses.items()))
    if needs.partner:
        operation["security"] = [
            {"partnerToken": [], "actingUser": []} if needs.acting_user else {"partnerToken": []}
        ]
    elif needs.participant:
        operation["security"] = [{"participantToken": []}]


def _rule_bound_input(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """422 where the body holds a schema with a rule in code (unless the route says more)."""
    body = operation.get("requestBody")
    if body is None:
        return
    reached = _reachable(body, schemas, set())
    for name, description in RULE_BOUND.items():
        if name in reached and "422" not in operation["responses"]:
            operation["responses"]["422"] = {
                "description": description,
                "headers": dict(VERSION_HEADER),
                "content": {PROBLEM_JSON: {"schema": PROBLEM}},
            }
            operation["responses"] = dict(sorted(operation["responses"].items()))


def _text_rules(operation: dict[str, Any]) -> None:
    """422 on every operation that takes a JSON body: its text may break TEXT_RULES."""
    media_types = operation.get("requestBody", {}).get("content", {})
    if not any(media == "application/json" or media.endswith("+json") for media in media_types):
        return
    responses = operation["responses"]
    if "422" in responses:
        responses["422"]["description"] += f". {TEXT_RULES}"
        return
    responses["422"] = {
        "description": TEXT_RULES,
        "headers": dict(VERSION_HEADER),
        "content": {PROBLEM_JSON: {"schema": PROBLEM}},
    }
    operation["responses"] = dict(sorted(responses.items()))


def _reachable(node: Any, schemas: dict[str, Any], seen: set[str]) -> set[str]:
    """The names of the component schemas a part of the document refers to, directly or not."""
    if isinstance(node, list):
        for item in node:
            _reachable(item, schemas, seen)
    elif isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/components/schemas/"):
            name = reference.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                _reachable(schemas.get(name), schemas, seen)
        for value in node.values():
            _reachable(value, schemas, seen)
    return seen


def _is_generated_validation(response: dict[str, Any] | None) -> bool:
    """FastAPI's own 422 (its HTTPValidationError); invalid input is a 400 problem here."""
    return response is not None and response.get("description") == "Validation Error"


def _relative_to_servers(paths: dict[str, Any], public_url: str) -> dict[str, Any]:
    """Paths under the major version relative to the document's server; the others (OAuth,
    ``/.well-known``, probes) with a server of their own at the gateway's root."""
    relative: dict[str, Any] = {}
    for path, item in paths.items():
        if path.startswith(MAJOR_PREFIX + "/"):
            relative[path.removeprefix(MAJOR_PREFIX)] = item
        else:
            relative[path] = {"servers": [{"url": public_url}], **item}
    return relative


def _collapse_nullable(node: Any) -> None:
    """``anyOf: [{type: T, …}, {type: null}]`` as ``type: [T, null]``: the same values, with
    ``format`` where a reader (and the ADR date rules) look for it."""
    if isinstance(node, list):
        for item in node:
            _collapse_nullable(item)
        return
    if not isinstance(node, dict):
        return
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        (other,) = [option for option in options if option != {"type": "null"}]
        if isinstance(other.get("type"), str) and "$ref" not in other:
            del node["anyOf"]
            node.update({**other, "type": [other["type"], "null"]})
    for value in node.values():
        _collapse_nullable(value)

"""RFC 9457 problem details: the one place where errors become HTTP responses."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from adapters.errors import PayloadError
from bsn import BSN_IN_TEXT
from conference.errors import (
    ConferenceConflict,
    ConferenceError,
    ConferenceNotFound,
    InvalidConference,
)
from consent.errors import ConsentClosed, ConsentError, ConsentNotFound, InvalidConsent
from gateway.core.db import WriterTimeout
from gateway.errors import AuthenticationFailed, Forbidden, GatewayError, ServiceUnavailable
from gateway.policy.engine import PolicyEngineUnavailable
from gateway.storage.service import ParticipantErased
from notice.errors import NoticeError, NoticeNotFound, NoticeSuperseded, UnknownGround
from plan.errors import (
    DirectorNotAllowed,
    InvalidPlanInput,
    NotYours,
    PlanError,
    StaleVersion,
)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://schakel.nl/problems/"
# A 503 is a dependency's passing state: every one says when a retry may succeed.
RETRY_AFTER_SECONDS = "1"

log = structlog.get_logger("gateway.problems")


def problem_response(
    status: int,
    *,
    slug: str,
    title: str,
    detail: str,
    request: Request,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    trace_id = getattr(request.state, "trace_id", None)
    if trace_id:
        body["trace_id"] = trace_id
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)  # type: ignore[arg-type]
    app.add_exception_handler(ConsentError, _consent_error)  # type: ignore[arg-type]
    app.add_exception_handler(ParticipantErased, _participant_erased)  # type: ignore[arg-type]
    app.add_exception_handler(PayloadError, _payload_error)  # type: ignore[arg-type]
    app.add_exception_handler(PlanError, _plan_error)  # type: ignore[arg-type]
    app.add_exception_handler(ConferenceError, _conference_error)  # type: ignore[arg-type]
    app.add_exception_handler(NoticeError, _notice_error)  # type: ignore[arg-type]
    app.add_exception_handler(PolicyEngineUnavailable, _policy_engine_unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(WriterTimeout, _database_busy)  # type: ignore[arg-type]
    app.add_exception_handler(ClientDisconnect, _client_gone)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, _database_unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(InterfaceError, _database_unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


async def _gateway_error(request: Request, error: GatewayError) -> JSONResponse:
    headers: dict[str, str] = {}
    extensions = dict(error.extensions)
    if isinstance(error, AuthenticationFailed):
        headers["WWW-Authenticate"] = _challenge(error)
        extensions["error"] = error.error
        extensions["error_description"] = error.detail
    if isinstance(error, Forbidden):
        headers["WWW-Authenticate"] = f'Bearer realm="schakel", error="{error.error}"'
        extensions["error"] = error.error
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    return problem_response(
        error.status,
        slug=error.slug,
        title=error.title,
        detail=error.detail,
        request=request,
        headers=headers or None,
        **extensions,
    )


async def _policy_engine_unavailable(
    request: Request, error: PolicyEngineUnavailable
) -> JSONResponse:
    """Fail closed (docs/architecture.md, "The disclosure flow"): a deny with 503; internals stay in the log."""
    log.warning("policy engine unavailable", error=str(error), path=request.url.path)
    return problem_response(
        503,
        slug="policy-engine-unavailable",
        title="Policy engine unavailable",
        detail="the policy engine could not decide; the request is denied and nothing was disclosed",
        request=request,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
        reason="policy-engine-unavailable",
    )


async def _database_busy(request: Request, error: WriterTimeout) -> JSONResponse:
    """Nothing was written: the request waited its whole turn for the database and gave up."""
    log.warning("database busy", error=str(error), path=request.url.path)
    return problem_response(
        503,
        slug="database-busy",
        title="Database busy",
        detail="the database did not take this request in time; nothing was changed",
        request=request,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _client_gone(request: Request, _: ClientDisconnect) -> JSONResponse:
    """The connection closed before the body arrived: nothing was read, nobody to answer."""
    log.info("client closed the connection before its request body arrived", path=request.url.path)
    return problem_response(
        400,
        slug="request-incomplete",
        title="Request incomplete",
        detail="the connection closed before the request's body arrived; nothing was changed",
        request=request,
    )


async def _database_unavailable(request: Request, error: DBAPIError) -> JSONResponse:
    """The database is locked, gone or refusing: nothing was changed, and a retry may succeed."""
    log.warning(
        "database unavailable", error=str(error.orig).splitlines()[0], path=request.url.path
    )
    return problem_response(
        503,
        slug="database-unavailable",
        title="Database unavailable",
        detail="the database could not take this request; nothing was changed",
        request=request,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def _challenge(error: AuthenticationFailed) -> str:
    description = error.detail.replace("\\", "\\\\").replace('"', "'")
    if error.scheme == "Bearer":
        return f'Bearer realm="schakel", error="{error.error}", error_description="{description}"'
    # RFC 6749 §5.2: invalid_client answers with the scheme the client tried to use.
    return f'{error.scheme} realm="schakel", error="{error.error}"'


async def _participant_erased(request: Request, _: ParticipantErased) -> JSONResponse:
    return problem_response(
        409,
        slug="participant-erased",
        title="Participant erased",
        detail="this participant's data were erased; no contributions are accepted for them",
        request=request,
    )


async def _consent_error(request: Request, error: ConsentError) -> JSONResponse:
    """Consent-registry errors: 404 (also for another participant's consent), 409, 422."""
    if isinstance(error, ConsentNotFound):
        return problem_response(
            404, slug="not-found", title="Not found", detail=str(error), request=request
        )
    if isinstance(error, ConsentClosed):
        return problem_response(
            409, slug="consent-closed", title="Consent already closed", detail=str(error),
            request=request,
        )  # fmt: skip
    extensions: dict[str, Any] = {}
    if isinstance(error, InvalidConsent):
        extensions["errors"] = [{"pointer": f"#/{error.field}", "detail": str(error)}]
        if error.valid is not None:
            extensions["valid_values"] = error.valid
    return problem_response(
        422, slug="invalid-consent", title="Invalid consent", detail=str(error), request=request,
        **extensions,
    )  # fmt: skip


async def _plan_error(request: Request, error: PlanError) -> JSONResponse:
    """Plan errors: 403 (another party's action), 409 (stale version, director refused), 422, 404."""
    if isinstance(error, NotYours):
        return problem_response(
            403, slug="forbidden", title="Forbidden", detail=str(error), request=request
        )
    if isinstance(error, StaleVersion):
        return problem_response(
            409, slug="plan-version-conflict", title="The item changed", detail=str(error),
            request=request,
        )  # fmt: skip
    if isinstance(error, DirectorNotAllowed):
        return problem_response(
            409, slug="director-not-allowed", title="Director not assigned", detail=str(error),
            request=request, reason=error.reason,
        )  # fmt: skip
    if isinstance(error, InvalidPlanInput):
        return problem_response(
            422, slug="invalid-input", title="Invalid input", detail=str(error), request=request,
            errors=[{"pointer": f"#/{error.field}", "detail": str(error)}],
        )  # fmt: skip
    return problem_response(
        404, slug="not-found", title="Not found", detail=str(error), request=request
    )


async def _conference_error(request: Request, error: ConferenceError) -> JSONResponse:
    """Conference errors: 404 (no such conference or case here), 409 (over, changed), 422."""
    if isinstance(error, ConferenceNotFound):
        return problem_response(
            404, slug="not-found", title="Not found", detail=str(error), request=request
        )
    if isinstance(error, ConferenceConflict):
        return problem_response(
            409, slug="conference-conflict", title="Conflict", detail=str(error),
            request=request, reason=error.reason,
        )  # fmt: skip
    extensions: dict[str, Any] = {}
    if isinstance(error, InvalidConference):
        extensions["errors"] = [{"pointer": f"#/{error.field}", "detail": str(error)}]
        if error.valid is not None:
            extensions["valid_values"] = error.valid
    return problem_response(
        422, slug="invalid-input", title="Invalid input", detail=str(error), request=request,
        **extensions,
    )  # fmt: skip


async def _notice_error(request: Request, error: NoticeError) -> JSONResponse:
    """Deletion-notice errors: 404 (also another party's notice), 409 (answered, superseded), 422."""
    if isinstance(error, NoticeNotFound):
        return problem_response(
            404, slug="not-found", title="Not found", detail=str(error), request=request
        )
    if isinstance(error, NoticeSuperseded):
        return problem_response(
            409, slug="notice-superseded", title="Notice superseded", detail=str(error),
            request=request, superseded_by=error.superseded_by,
        )  # fmt: skip
    if isinstance(error, UnknownGround):
        return problem_response(
            422, slug="invalid-input", title="Invalid input", detail=str(error), request=request,
            errors=[{"pointer": "#/ground", "detail": str(error)}], valid_values=error.valid,
        )  # fmt: skip
    return problem_response(
        409, slug="notice-acknowledged", title="Notice acknowledged already", detail=str(error),
        request=request,
    )  # fmt: skip


async def _payload_error(request: Request, error: PayloadError) -> JSONResponse:
    """A partner payload an adapter refused: each fault located (FHIRPath, JSON Pointer, XPath)."""
    malformed = error.reason == "malformed-payload"
    faults = [{"location": fault.location, "detail": fault.detail} for fault in error.faults]
    return problem_response(
        400 if malformed else 422,
        slug=error.reason,
        title="Malformed payload" if malformed else "Invalid payload",
        detail="; ".join(f"{f['location']}: {f['detail']}" for f in faults[:5]),
        request=request,
        errors=faults,
    )


# Errors of a rule written in code (the 11-proof, "exactly one of"): the request has the
# documented form but breaks a rule the schema cannot state, so it is 422, not 400; so does a
# number passing for a BSN in free text.
RULE_ERRORS = frozenset({"value_error", "assertion_error", BSN_IN_TEXT})


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """400 for a request that does not match the document (NL GOV API Design Rules 2.2,
    /core/error-handling/invalid-input), 415 for a body of another media type, 422 for a rule."""
    items = error.errors()
    problems = [_field_problem(item) for item in items]
    if any(item["type"] == "json_invalid" for item in items):
        return problem_response(
            400,
            slug="malformed-json",
            title="Malformed JSON",
            detail="the request body is not valid JSON",
            request=request,
            errors=problems,
        )
    if _body_of_another_media_type(request, items):
        return problem_response(
            415,
            slug="unsupported-media-type",
            title="Unsupported media type",
            detail="the request body must be application/json",
            request=request,
        )
    detail = "; ".join(f"{p['pointer']}: {p['detail']}" for p in problems[:5])
    status = 422 if items and all(item["type"] in RULE_ERRORS for item in items) else 400
    return problem_response(
        status,
        slug="invalid-input",
        title="Invalid input",
        detail=detail or "the request is not valid",
        request=request,
        errors=problems,
    )


def _body_of_another_media_type(request: Request, items: Sequence[Any]) -> bool:
    """A body was sent, but not as JSON: FastAPI then validates its raw bytes as the model."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media_type or media_type == "application/json" or media_type.endswith("+json"):
        return False
    return any(tuple(item.get("loc", ())) == ("body",) for item in items)


def _field_problem(item: Any) -> dict[str, str]:
    """One offending field, as a JSON Pointer (RFC 6901) into the body or a named parameter."""
    location = [str(part) for part in item.get("loc", ())]
    source = location[0] if location else "body"
    path = location[1:]
    if source == "body":
        pointer = "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)
        return {"pointer": pointer, "detail": str(item.get("msg", "invalid value"))}
    return {
        "pointer": f"#/{'/'.join(path)}",
        "parameter": f"{source}:{'.'.join(path)}",
        "detail": str(item.get("msg", "invalid value")),
    }


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    if isinstance(error.__cause__, GatewayError):  # raised while FastAPI read the body (a 413)
        return await _gateway_error(request, error.__cause__)
    status = HTTPStatus(error.status_code)
    detail = error.detail if isinstance(error.detail, str) else status.description
    headers = dict(error.headers) if error.headers else {}
    if status is HTTPStatus.METHOD_NOT_ALLOWED:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(
        error.status_code,
        slug=status.phrase.lower().replace(" ", "-"),
        title=status.phrase,
        detail=detail,
        request=request,
        headers=headers or None,
    )


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at this path (RFC 9110 §10.2.1), not only the first's.
    A route written out literally for this path outranks a template that happens to match it
    (``/v1/signals/feed`` is not ``/v1/signals/{signal_id}``), as it does when routing."""
    matching = [
        route
        for route in iter_route_contexts(request.app.routes)
        if route.matches(request.scope)[0] is not Match.NONE
    ]
    literal = [route for route in matching if route.path == request.url.path]
    methods = {method for route in literal or matching for method in route.methods or ()}
    return ", ".join(sorted(methods))


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=error, path=request.url.path)
    return problem_response(
        500,
        slug="internal-error",
        title="Internal error",
        detail="the gateway could not complete the request; nothing was disclosed",
        request=request,
    )

"""``POST /v1/disclosures``: the minimal view, in JSON or (for a GGZ system) as a FHIR Bundle."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gateway.auth.access_tokens import VerifiedToken, caller_of, check_scope
from gateway.deps import BearerDep, RuntimeDep
from gateway.disclosures.flow import audit_disclosure, audit_refusal, prepare
from gateway.disclosures.render import FHIR_JSON, render
from gateway.disclosures.schemas import DisclosureRequest, DisclosureView
from gateway.errors import Forbidden, GatewayError, ServiceUnavailable
from gateway.policy.engine import PolicyEngineUnavailable
from gateway.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["partner: disclosures"])
log = structlog.get_logger("gateway.disclosures")

UNAVAILABLE = "policy-engine-unavailable"


@router.post(
    "/disclosures",
    summary="Ask for case data about a participant, for one purpose",
    response_model=DisclosureView,
    responses={
        200: {"content": {FHIR_JSON: {}}, "description": "The minimal view (JSON or FHIR Bundle)"},
        403: {"description": "The access token does not carry the purpose"},
        503: {"description": "Policy engine, audit log or database unavailable: nothing disclosed"},
    },
)
async def disclose(
    body: DisclosureRequest, http_request: Request, bearer: BearerDep, runtime: RuntimeDep
) -> Response:
    """Consents in force now, the policy decision, the audit entry, the commit — then the answer.

    The work runs on the batch writer (group commit): the answer leaves only after the
    transaction holding its audit entry has committed.
    """
    accept = http_request.headers.get("accept", "")
    try:
        outcome = await runtime.writer.run(
            lambda session: _disclose_in(session, runtime, http_request, bearer, body, accept)
        )
    except GatewayError:
        raise  # bad input (e.g. an unknown role) or a refused token: nothing was decided
    except PolicyEngineUnavailable as error:
        log.warning("policy engine unavailable; denied", error=str(error))
        await _audit_unavailable(runtime, http_request, bearer, body)
        raise ServiceUnavailable(
            "the policy engine is unavailable; nothing was disclosed", reason=UNAVAILABLE
        ) from None
    except Exception as error:  # fail closed: any failure in the transaction
        log.error("disclosure failed; nothing disclosed", exc_info=error)
        raise ServiceUnavailable(
            "the gateway could not record this disclosure; nothing was disclosed",
            reason="audit-or-storage-unavailable",
        ) from None
    if isinstance(outcome, Forbidden):
        raise outcome
    payload, media_type = outcome
    return Response(content=payload, media_type=media_type)


def _disclose_in(
    session: Session,
    runtime: Runtime,
    http_request: Request,
    bearer: VerifiedToken,
    body: DisclosureRequest,
    accept: str,
) -> Forbidden | tuple[bytes, str]:
    """One disclosure in the writer's transaction: the answer's bytes, or the audited refusal.

    The party behind the token is looked up here, in the same transaction. The refusal is
    returned, not raised: raising would roll the unit back to its savepoint, audit entry and all.
    """
    caller = caller_of(session, bearer)
    try:
        check_scope(caller, body.purpose)
    except Forbidden as refused:
        audit_refusal(
            session=session, runtime=runtime, http_request=http_request, caller=caller,
            request=body, reason=f"scope: {refused.detail}",
        )  # fmt: skip
        return refused
    prepared = prepare(session=session, runtime=runtime, caller=caller, request=body,
                       now=runtime.clock())  # fmt: skip
    payload, media_type = render(prepared.view, accept)
    audit_disclosure(
        session=session, runtime=runtime, http_request=http_request, caller=caller,
        request=body, prepared=prepared, body=payload,
    )  # fmt: skip
    return payload, media_type


async def _audit_unavailable(
    runtime: Runtime, http_request: Request, bearer: VerifiedToken, body: DisclosureRequest
) -> None:
    """Denials are audited too; if even that fails, the caller still gets 503 and no data."""

    def refusal(session: Session) -> None:
        caller = caller_of(session, bearer)
        audit_refusal(
            session=session, runtime=runtime, http_request=http_request, caller=caller,
            request=body, reason=UNAVAILABLE, policy_revision=runtime.policy_engine.revision,
        )  # fmt: skip

    try:
        await runtime.writer.run(refusal)
    except Exception as error:  # the 503 stands whatever happens here
        log.error("could not audit a denial", exc_info=error)

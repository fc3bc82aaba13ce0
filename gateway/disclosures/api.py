"""``POST /v1/disclosures``: the minimal view, in JSON or (for a GGZ system) as a FHIR Bundle."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.deps import ActingUserDep, BearerDep, RuntimeDep, TraceDep
from gateway.disclosures.flow import Ask, disclose
from gateway.disclosures.render import FHIR_JSON
from gateway.disclosures.schemas import DisclosureRequest, DisclosureView
from gateway.disclosures.view import CaseData
from gateway.openapi import fhir_schema

router = APIRouter(prefix="/v1", tags=["partner: disclosures"])


@router.post(
    "/disclosures",
    summary="Ask for case data about a participant, for one purpose",
    response_model=DisclosureView,
    responses={
        200: {
            "description": "The minimal view: JSON, or a FHIR Bundle when the Accept header asks "
            "for application/fhir+json",
            "content": {FHIR_JSON: {"schema": fhir_schema("Bundle")}},
        },
        403: {"description": "The access token does not carry the purpose"},
        422: {"description": "A role your party does not hold, or a BSN that fails the 11-proof"},
        503: {"description": "Policy engine, audit log or database unavailable: nothing disclosed"},
    },
)
async def request_disclosure(
    body: DisclosureRequest,
    request: Request,
    bearer: BearerDep,
    runtime: RuntimeDep,
    trace_id: TraceDep,
    acting_user: ActingUserDep,
) -> Response:
    """Consents in force now, the policy decision, the audit entry, the commit — then the answer."""
    shown = await disclose(
        runtime=runtime,
        bearer=bearer,
        ask=Ask(
            subject=body.subject,
            purpose=body.purpose,
            categories=tuple(body.categories),
            role=body.role,
            acting_user=acting_user,
        ),
        reader=CaseData(accept=request.headers.get("accept", "")),
        trace_id=trace_id,
    )
    return Response(content=shown.body, media_type=shown.media_type)

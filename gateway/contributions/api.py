"""``POST /v1/adapters/{format}/contributions``: a partner payload in, sealed contributions stored
(steps: ``gateway.contributions.flow``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from gateway.contributions import flow
from gateway.contributions.schemas import IngestResult
from gateway.deps import PartnerDep, RuntimeDep, SessionDep, TraceDep

router = APIRouter(prefix="/v1/adapters", tags=["partner systems"])


async def request_body(request: Request) -> bytes:
    """The raw body; the body-size middleware stops it at the limit (413) while it streams in."""
    return await request.body()


BodyDep = Annotated[bytes, Depends(request_body)]


@router.post(
    "/{format}/contributions",
    summary="Contribute case data in a partner format (ggz-fhir, uwv-xml, uwv-json, gemeente-zgw)",
    response_model=IngestResult,
    status_code=201,
    responses={
        200: {"description": "Nothing was stored: every item was dropped (see `dropped`)"},
        400: {"description": "Not well-formed (JSON, XML; DTDs and entities are refused)"},
        403: {"description": "A category the caller's domain is not a source of"},
        404: {"description": "Unknown format"},
        409: {"description": "Idempotency-Key reused for another request"},
        413: {"description": "Body over the size limit"},
        415: {"description": "Content type not accepted by this format"},
        422: {"description": "Invalid payload; `errors` name each fault's location"},
    },
)
def contribute(
    format: str,
    request: Request,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
    body: BodyDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    answer = flow.contribute(
        session, runtime, trace_id, caller,
        format_name=format, content_type=request.headers.get("content-type"), body=body,
        idempotency_key=idempotency_key,
    )  # fmt: skip
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)

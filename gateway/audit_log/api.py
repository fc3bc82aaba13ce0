"""The audit log over HTTP: the privacy officer's view under /v1/audit, the public checkpoint
keys, and the participant's own access log at /v1/me/access-log. Steps: ``gateway.audit_log.flow``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from audit.checkpoint import checkpoint_document, latest_checkpoint
from audit.fhir import audit_event
from audit.schemas import (
    ACTION_PATTERN,
    MAX_PAGE,
    CheckpointView,
    DailyStatistic,
    EntryPage,
    Outcome,
)
from gateway.audit_log import flow
from gateway.audit_log.access_log import access_log
from gateway.audit_log.flow import Filters, OfficerAsk
from gateway.audit_log.schemas import AccessLog, TimelineAsk, TimelineEntry, TimelinePage
from gateway.audit_log.unusual import Finding
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep, TraceDep
from gateway.errors import NotFound

router = APIRouter(prefix="/v1/audit", tags=["audit"])
participant_router = APIRouter(prefix="/v1/me", tags=["participant: access log"])


def audit_filters(
    subject_ref: Annotated[str | None, Query(max_length=128)] = None,
    party: Annotated[str | None, Query(max_length=64, description="The acting party")] = None,
    action: Annotated[str | None, Query(max_length=40, pattern=ACTION_PATTERN)] = None,
    purpose: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Outcome | None = None,
    recorded_from: Annotated[
        datetime | None, Query(alias="from", description="Inclusive, with offset")
    ] = None,
    recorded_until: Annotated[
        datetime | None, Query(alias="until", description="Exclusive, with offset")
    ] = None,
) -> Filters:
    return Filters(
        subject_ref=subject_ref,
        party=party,
        action=action,
        purpose=purpose,
        outcome=outcome,
        recorded_from=recorded_from,
        recorded_until=recorded_until,
    )


FiltersDep = Annotated[Filters, Depends(audit_filters)]


def officer_ask(request: Request, caller: PartnerDep, trace_id: TraceDep) -> OfficerAsk:
    """The calling party and its query as the audit entry describes it."""
    return OfficerAsk(
        caller=caller,
        description=flow.describe(request.url.path, dict(request.query_params.items())),
        trace_id=trace_id,
    )


OfficerAskDep = Annotated[OfficerAsk, Depends(officer_ask)]


@router.get("/keys", summary="Public keys (JWKS) that verify audit checkpoints, retired ones too")
def audit_keys(runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(runtime.audit_keys.jwks, headers={"Cache-Control": "max-age=300"})


@router.get(
    "/checkpoints/latest",
    summary="The newest signed checkpoint, to keep outside the gateway and verify exports against",
)
def newest_checkpoint(session: SessionDep) -> CheckpointView:
    checkpoint = latest_checkpoint(session)
    if checkpoint is None:
        raise NotFound("the audit log has no checkpoint yet")
    return CheckpointView(**checkpoint_document(checkpoint))


@router.get(
    "/entries",
    summary="Search the audit log (privacy officers); keyset pagination",
    response_model=EntryPage,
)
def search_entries(
    ask: OfficerAskDep,
    runtime: RuntimeDep,
    session: SessionDep,
    filters: FiltersDep,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Response:
    """Entries are read as plain rows and written once, by orjson (the EntryPage shape)."""
    documents, next_after_seq = flow.search(
        session, runtime, ask, filters, after_seq=after_seq, limit=limit
    )
    page = {"entries": documents, "next_after_seq": next_after_seq}
    return Response(orjson.dumps(page), media_type="application/json")


@router.get(
    "/entries/{seq}/fhir",
    summary="One entry as a FHIR R4 AuditEvent",
    response_class=JSONResponse,
)
def entry_as_audit_event(
    ask: OfficerAskDep,
    runtime: RuntimeDep,
    session: SessionDep,
    seq: Annotated[int, Path(ge=1)],
) -> JSONResponse:
    document = flow.entry(session, runtime, ask, seq)
    return JSONResponse(audit_event(document), media_type="application/fhir+json")


@router.get("/statistics", summary="Entries per acting party per UTC day, by outcome")
def statistics(
    ask: OfficerAskDep, runtime: RuntimeDep, session: SessionDep, filters: FiltersDep
) -> list[DailyStatistic]:
    return flow.statistics(session, runtime, ask, filters)


@router.get(
    "/export",
    summary="Stream the matching entries as NDJSON (one entry per line) or CSV",
    response_class=StreamingResponse,
)
def export(
    ask: OfficerAskDep,
    runtime: RuntimeDep,
    session: SessionDep,
    filters: FiltersDep,
    export_format: Annotated[Literal["ndjson", "csv"], Query(alias="format")] = "ndjson",
    after_seq: Annotated[int, Query(ge=0)] = 0,
) -> StreamingResponse:
    download = flow.export(
        session, runtime, ask, filters, after_seq=after_seq, as_format=export_format
    )
    return StreamingResponse(
        download.lines,
        media_type=download.media_type,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )


@participant_router.get("/access-log", summary="Who saw or asked for what about me, when and why")
def my_access_log(
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AccessLog:
    return access_log(session, runtime, participant, after_seq=after_seq, limit=limit)


@router.post(
    "/timeline",
    summary="Who saw this participant's data and on what grounds: newest first, each "
    "disclosure with the consent it relied on (privacy officers)",
    responses={
        401: {"description": "No or an invalid access token"},
        403: {"description": "Not a privacy officer (the refusal is itself an entry)"},
        422: {"description": "The subject is neither a valid BSN nor a pseudonym"},
    },
)
def participant_timeline(
    request: Request,
    caller: PartnerDep,
    trace_id: TraceDep,
    runtime: RuntimeDep,
    session: SessionDep,
    ask: TimelineAsk,
) -> TimelinePage:
    described = flow.describe(request.url.path, {"subject": "(in the body)"})
    officer = OfficerAsk(caller=caller, description=described, trace_id=trace_id)
    found = flow.timeline(
        session, runtime, officer, ask.subject, before_seq=ask.before_seq, limit=ask.limit,
        hide_own_queries=not ask.show_own_queries,
    )  # fmt: skip
    return TimelinePage(
        subject_ref=found.subject_ref,
        entries=[
            TimelineEntry(
                entry=document,
                consents_relied_on=[
                    found.grounds[consent]
                    for consent in document["consent_ids"]
                    if consent in found.grounds
                ],
            )
            for document in found.entries
        ],
        next_before_seq=found.next_before_seq,
    )


@router.get(
    "/unusual-activity",
    summary="Unusual activity by the rules of the settings (privacy officers' monitoring)",
    description="Each finding names its rule (denial-share, after-hours, bulk-reading, "
    "most-consulted, sudden-rise), the party or participant, the count against the rule's "
    "threshold and the sequence numbers of the entries behind it (GET /v1/audit/entries). "
    "Answering is itself an audit.query entry.",
    responses={
        401: {"description": "No or an invalid access token"},
        403: {"description": "Not a privacy officer (the refusal is itself an entry)"},
    },
)
def unusual_activity(ask: OfficerAskDep, runtime: RuntimeDep, session: SessionDep) -> list[Finding]:
    return flow.unusual_activity(session, runtime, ask)

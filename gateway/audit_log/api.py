"""The audit log over HTTP: the privacy officer's view under /v1/audit, the public checkpoint
keys, and the participant's own access log at /v1/me/access-log. Steps: ``gateway.audit_log.flow``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import AwareDatetime, BeforeValidator
from pydantic_core import PydanticCustomError

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
from dbtypes import MAX_JSON_INT
from gateway.audit_log import flow
from gateway.audit_log.access_log import access_log
from gateway.audit_log.flow import Filters, OfficerAsk
from gateway.audit_log.schemas import AccessLog, TimelineAsk, TimelineEntry, TimelinePage
from gateway.audit_log.unusual import Finding
from gateway.core.catalogue import PARTY_ID
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep, TraceDep
from gateway.disclosures.render import FhirJSONResponse
from gateway.errors import NotFound
from gateway.openapi import fhir_answer

router = APIRouter(prefix="/v1/audit", tags=["audit"])
SUBJECT_REF_PATTERN = r"^([0-9]{9}|[0-9a-fA-F]{64})$"
PARTY_PATTERN = PARTY_ID.pattern
RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339_text(value: object) -> object:
    """A date-time as RFC 3339 text only: pydantic would also read a number as Unix time."""
    if isinstance(value, str) and not RFC_3339.match(value):
        raise PydanticCustomError("datetime_format", "a date-time with offset (RFC 3339)")
    return value


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]

OFFICERS_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"description": "The caller's party does not hold the privacy-officer role; the "
          "refusal is an audit entry"},
    422: {"description": "A filter names no registered party, or a BSN that fails the 11-proof"},
}  # fmt: skip
AfterSeq = Query(
    alias="afterSeq", ge=0, le=MAX_JSON_INT, description="`nextAfterSeq` of the previous page"
)
participant_router = APIRouter(prefix="/v1/me", tags=["participant: access log"])


def audit_filters(
    subject_ref: Annotated[
        str | None,
        Query(
            alias="subjectRef",
            pattern=SUBJECT_REF_PATTERN,
            description="A BSN or a participant pseudonym (64 hex digits)",
        ),
    ] = None,
    party: Annotated[
        str | None, Query(pattern=PARTY_PATTERN, description="The acting party")
    ] = None,
    action: Annotated[str | None, Query(max_length=40, pattern=ACTION_PATTERN)] = None,
    purpose: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Outcome | None = None,
    recorded_from: Annotated[
        Rfc3339 | None, Query(alias="from", description="Inclusive, with offset")
    ] = None,
    recorded_until: Annotated[
        Rfc3339 | None, Query(alias="until", description="Exclusive, with offset")
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
    responses={404: {"description": "The audit log has no checkpoint yet"}},
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
    responses=OFFICERS_ONLY,
)
def search_entries(
    ask: OfficerAskDep,
    runtime: RuntimeDep,
    session: SessionDep,
    filters: FiltersDep,
    after_seq: Annotated[int, AfterSeq] = 0,
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
    response_class=FhirJSONResponse,
    responses={**fhir_answer("AuditEvent", "The entry as a FHIR AuditEvent"), **OFFICERS_ONLY},
)
def entry_as_audit_event(
    ask: OfficerAskDep,
    runtime: RuntimeDep,
    session: SessionDep,
    seq: Annotated[int, Path(ge=1, le=MAX_JSON_INT)],
) -> FhirJSONResponse:
    return FhirJSONResponse(audit_event(flow.entry(session, runtime, ask, seq)))


@router.get(
    "/statistics",
    summary="Entries per acting party per UTC day, by outcome",
    responses=OFFICERS_ONLY,
)
def statistics(
    ask: OfficerAskDep, runtime: RuntimeDep, session: SessionDep, filters: FiltersDep
) -> list[DailyStatistic]:
    return flow.statistics(session, runtime, ask, filters)


@router.get(
    "/export",
    summary="Stream the matching entries as NDJSON (one entry per line) or CSV",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The entries, one per line (NDJSON) or as CSV with a header row",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **OFFICERS_ONLY,
    },
)
def export(
    ask: OfficerAskDep,
    runtime: RuntimeDep,
    session: SessionDep,
    filters: FiltersDep,
    export_format: Annotated[Literal["ndjson", "csv"], Query(alias="format")] = "ndjson",
    after_seq: Annotated[int, AfterSeq] = 0,
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
    after_seq: Annotated[int, AfterSeq] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AccessLog:
    return access_log(session, runtime, participant, after_seq=after_seq, limit=limit)


@router.post(
    "/timeline",
    summary="Who saw this participant's data and on what grounds: newest first, each "
    "disclosure with the consent it relied on (privacy officers)",
    responses=OFFICERS_ONLY,
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
    responses={403: OFFICERS_ONLY[403]},
)
def unusual_activity(ask: OfficerAskDep, runtime: RuntimeDep, session: SessionDep) -> list[Finding]:
    return flow.unusual_activity(session, runtime, ask)

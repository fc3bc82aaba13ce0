"""The audit log over HTTP: the privacy officer's view under /v1/audit, the public checkpoint
keys, checkpoints and consistency proofs, and the participant's own access log (with a proof of
each entry) at /v1/me/access-log. Steps: ``gateway.audit_log.flow``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import AwareDatetime, BeforeValidator
from pydantic_core import PydanticCustomError

from audit.fhir import audit_event
from audit.proofs import ConsistencyBundle, InclusionBundle, as_tlog_proof
from audit.schemas import (
    ACTION_PATTERN,
    MAX_PAGE,
    CheckpointView,
    DailyStatistic,
    EntryPage,
    LogView,
    Outcome,
)
from dbtypes import MAX_JSON_INT
from gateway.audit_log import flow
from gateway.audit_log.access_log import access_log, own_entry_proof
from gateway.audit_log.flow import Filters, OfficerAsk
from gateway.audit_log.schemas import AccessLog, TimelineAsk, TimelineEntry, TimelinePage
from gateway.audit_log.unusual import Finding
from gateway.core.catalogue import PARTY_ID
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep, TraceDep
from gateway.disclosures.render import FhirJSONResponse
from gateway.openapi import fhir_answer

router = APIRouter(prefix="/v1/audit", tags=["audit"])
SUBJECT_REF_PATTERN = r"^([0-9]{9}|[0-9a-fA-F]{64})$"
PARTY_PATTERN = PARTY_ID.pattern
RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339_text(value: object) -> object:
    """A date-time as RFC 3339 text only: pydantic would also read a number as Unix time."""
    if isinstance(value, str) and not RFC_3339.match(value):
        raise PydanticCustomError("datetime_format", "a date-time with offset (RFC 3339)")
    if isinstance(value, str) and not "0002" <= value[:4] <= "9998":
        # An offset at either end of the calendar would not fit a UTC timestamp. A rule the
        # document cannot state, so a 422 (a ValueError), not a 400.
        raise ValueError("a date-time between the years 2 and 9998")
    return value


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]

OFFICERS_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"description": "The caller's party does not hold the privacy-officer role, or asks "
          "outside its organisation's part of the log; the refusal is an audit entry"},
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
    actor_user: Annotated[
        str | None,
        Query(
            alias="actorUser",
            min_length=1,
            max_length=64,
            description="The acting professional, by the partner's own user id",
        ),
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
        actor_user=actor_user,
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


@router.get("/log", summary="The log's origin, note keys and witnesses, to verify checkpoints")
def log_info(runtime: RuntimeDep) -> LogView:
    return flow.log_view(runtime)


@router.get(
    "/checkpoints/latest",
    summary="The newest signed checkpoint, to keep outside the gateway and verify exports against",
    responses={404: {"description": "The audit log has no checkpoint yet"}},
)
def newest_checkpoint(session: SessionDep) -> CheckpointView:
    return flow.newest_checkpoint(session)


@router.get(
    "/checkpoints/{seq}",
    summary="The checkpoint signed at entry (tree size) seq",
    responses={404: {"description": "No checkpoint was signed at this seq"}},
)
def checkpoint_at(
    session: SessionDep, seq: Annotated[int, Path(ge=1, le=MAX_JSON_INT)]
) -> CheckpointView:
    return flow.checkpoint_view(session, seq=seq)


@router.get(
    "/checkpoint",
    summary="The newest tree checkpoint as C2SP tlog-checkpoint text, cosignatures included",
    response_class=PlainTextResponse,
    responses={
        200: {"description": "The checkpoint note", "content": {"text/plain": {}}},
        404: {"description": "The audit log has no tree checkpoint yet"},
    },
)
def newest_note(session: SessionDep) -> PlainTextResponse:
    return PlainTextResponse(flow.newest_note(session))


@router.get(
    "/proofs/consistency",
    summary="Proof (RFC 9162 §2.1.4) that the tree checkpoint of `to` entries extends `from`'s",
    responses={404: {"description": "No tree checkpoint of one of the sizes, or `from` > `to`"}},
)
def consistency_proof(
    session: SessionDep,
    runtime: RuntimeDep,
    old: Annotated[int, Query(alias="from", ge=0, le=MAX_JSON_INT, description="Tree size")],
    new: Annotated[int, Query(alias="to", ge=1, le=MAX_JSON_INT, description="Tree size")],
) -> ConsistencyBundle:
    return flow.consistency(session, runtime, old, new)


ProofFormat = Annotated[
    Literal["json", "tlog-proof"],
    Query(alias="format", description="The JSON bundle, or C2SP tlog-proof text"),
]
PROOF_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The entry, its audit path and the checkpoint the path leads to",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    404: {"description": "No such entry (for a participant: none of theirs)"},
    409: {"description": "No checkpoint covers the entry yet; it follows within minutes"},
}


def _proof_response(bundle: InclusionBundle, as_format: str) -> Response:
    if as_format == "tlog-proof":
        return PlainTextResponse(as_tlog_proof(bundle))
    return Response(bundle.model_dump_json(), media_type="application/json")


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
    "/entries/{seq}/proof",
    summary="Proof (RFC 9162 §2.1.3) that the log holds entry seq, to a signed checkpoint",
    response_model=InclusionBundle,
    responses={**PROOF_ANSWERS, **OFFICERS_ONLY},
)
def entry_proof(
    ask: OfficerAskDep,
    runtime: RuntimeDep,
    session: SessionDep,
    seq: Annotated[int, Path(ge=1, le=MAX_JSON_INT)],
    as_format: ProofFormat = "json",
) -> Response:
    return _proof_response(flow.entry_proof(session, runtime, ask, seq), as_format)


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


@participant_router.get(
    "/access-log/{seq}/proof",
    summary="Proof that the log holds this entry of my access log, to a signed checkpoint",
    response_model=InclusionBundle,
    responses=PROOF_ANSWERS,
)
def my_entry_proof(
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
    seq: Annotated[int, Path(ge=1, le=MAX_JSON_INT)],
    as_format: ProofFormat = "json",
) -> Response:
    return _proof_response(own_entry_proof(session, runtime, participant, seq), as_format)


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

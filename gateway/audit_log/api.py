"""The privacy officer's view of the audit log under /v1/audit, and the public checkpoint keys.

Every officer request is itself recorded (``audit.query``), refusals included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import select

from audit.actions import Action
from audit.append import head
from audit.checkpoint import checkpoint_document, latest_checkpoint
from audit.errors import EntryNotFound, InvalidAuditQuery
from audit.export import csv_lines, ndjson_lines
from audit.fhir import audit_event
from audit.query import daily_statistics, entry_by_seq, entry_document, find_documents, find_entries
from audit.schemas import (
    ACTION_PATTERN,
    MAX_PAGE,
    AuditDraft,
    AuditQuery,
    CheckpointView,
    DailyStatistic,
    EntryPage,
    Outcome,
)
from gateway.audit_log.trail import append
from gateway.auth.access_tokens import Caller
from gateway.core.db import transaction
from gateway.deps import PartnerDep, RuntimeDep, SessionDep
from gateway.errors import Forbidden, InvalidInput, NotFound
from gateway.identity.bsn import is_valid_bsn
from gateway.identity.models import DomainPseudonym
from gateway.identity.vault import AUDIT_DOMAIN, find_by_bsn, pseudonym
from gateway.registry.service import find_party
from gateway.runtime import Runtime

NO_SUCH_SUBJECT = "unknown-participant"  # matches no entry: entries hold 64-hex pseudonyms
OFFICER_ROLE = "privacy-officer"
EXPORT_BATCH = 500

router = APIRouter(prefix="/v1/audit", tags=["audit"])


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
) -> dict[str, Any]:
    return {
        "subject_ref": subject_ref,
        "party": party,
        "action": action,
        "purpose": purpose,
        "outcome": outcome,
        "recorded_from": recorded_from,
        "recorded_until": recorded_until,
    }


FiltersDep = Annotated[dict[str, Any], Depends(audit_filters)]


def _record_query(
    *,
    runtime: Runtime,
    session: SessionDep,
    request: Request,
    caller: Caller,
    outcome: Outcome,
    reason: str,
    subject_ref: str | None,
) -> None:
    trace_id = getattr(request.state, "trace_id", None)
    append(
        session=session,
        runtime=runtime,
        draft=AuditDraft(
            trace_id=trace_id,
            actor_party=caller.party,
            actor_domain=caller.domain,
            action=Action.AUDIT_QUERY,
            subject_ref=subject_ref,
            outcome=outcome,
            reason=reason[:1000],
        ),
    )


def _describe(request: Request) -> str:
    return json.dumps(
        {"endpoint": request.url.path, **dict(request.query_params.items())},
        sort_keys=True,
        ensure_ascii=False,
    )


def _officer_query(
    *,
    runtime: Runtime,
    session: SessionDep,
    request: Request,
    caller: Caller,
    filters: dict[str, Any],
    **paging: Any,
) -> AuditQuery:
    """Refuse (and record the refusal) unless the caller is a privacy officer; check the filters."""
    filters = {
        **filters,
        "subject_ref": subject_filter(runtime, session, filters.get("subject_ref")),
    }
    if OFFICER_ROLE not in caller.roles:
        _record_query(
            runtime=runtime,
            session=session,
            request=request,
            caller=caller,
            outcome=Outcome.DENY,
            reason=f"not a privacy officer: {_describe(request)}",
            subject_ref=filters.get("subject_ref"),
        )
        # The refusal must stay on record although the request fails, so commit it now.
        session.commit()
        raise Forbidden(
            f"the audit log is open to parties with the {OFFICER_ROLE} role only",
            error="insufficient_scope",
        )
    try:
        query = AuditQuery(**filters, **paging)
    except InvalidAuditQuery as error:
        raise InvalidInput(str(error)) from None
    if query.party is not None and find_party(session, query.party) is None:
        raise InvalidInput(f"unknown party {query.party!r}", field="party")
    return query


def subject_filter(runtime: Runtime, session: SessionDep, given: str | None) -> str | None:
    """Officers name a participant by BSN or any domain pseudonym; entries hold the audit one."""
    if given is None:
        return None
    participant_id: str | None = None
    if re.fullmatch(r"[0-9]{9}", given):
        if not is_valid_bsn(given):
            raise InvalidInput("subject_ref: the BSN fails the 11-proof", field="subject_ref")
        found = find_by_bsn(session, runtime.identity_keys, given)
        participant_id = found.id if found is not None else None
    elif re.fullmatch(r"[0-9a-f]{64}", given.lower()):
        row = session.scalars(
            select(DomainPseudonym).where(DomainPseudonym.pseudonym == given.lower())
        ).first()
        if row is None:
            return given.lower()  # not ours: it can only match entries that carry it verbatim
        participant_id = row.participant_id
    else:
        raise InvalidInput(
            "subject_ref is a BSN or a participant pseudonym (64 hex digits)", field="subject_ref"
        )
    if participant_id is None:
        return NO_SUCH_SUBJECT
    return pseudonym(runtime.identity_keys, AUDIT_DOMAIN, participant_id)


def _answered(
    *, runtime: Runtime, session: SessionDep, request: Request, caller: Caller, subject: str | None
) -> None:
    """Record an answered officer query, after reading, so it never appears in its own answer."""
    _record_query(
        runtime=runtime,
        session=session,
        request=request,
        caller=caller,
        outcome=Outcome.OK,
        reason=_describe(request),
        subject_ref=subject,
    )


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
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    caller: PartnerDep,
    filters: FiltersDep,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Response:
    """Entries are read as plain rows and written once, by orjson (the EntryPage shape)."""
    documents, next_after_seq = officer_search(
        request, runtime, session, caller, filters, after_seq, limit
    )
    page = {"entries": documents, "next_after_seq": next_after_seq}
    return Response(orjson.dumps(page), media_type="application/json")


def officer_search(
    request: Request,
    runtime: Runtime,
    session: SessionDep,
    caller: Caller,
    filters: dict[str, Any],
    after_seq: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of an officer's search (entry documents) and the next after_seq; audited."""
    query = _officer_query(
        runtime=runtime,
        session=session,
        request=request,
        caller=caller,
        filters=filters,
        after_seq=after_seq,
        limit=limit,
    )
    documents, next_after_seq = find_documents(session=session, query=query)
    _answered(
        runtime=runtime, session=session, request=request, caller=caller, subject=query.subject_ref
    )
    return documents, next_after_seq


@router.get(
    "/entries/{seq}/fhir",
    summary="One entry as a FHIR R4 AuditEvent",
    response_class=JSONResponse,
)
def entry_as_audit_event(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    caller: PartnerDep,
    seq: Annotated[int, Path(ge=1)],
) -> JSONResponse:
    _officer_query(runtime=runtime, session=session, request=request, caller=caller, filters={})
    try:
        entry = entry_by_seq(session, seq)
    except EntryNotFound as error:
        raise NotFound(str(error)) from None
    _answered(
        runtime=runtime, session=session, request=request, caller=caller, subject=entry.subject_ref
    )
    return JSONResponse(audit_event(entry_document(entry)), media_type="application/fhir+json")


@router.get("/statistics", summary="Entries per acting party per UTC day, by outcome")
def statistics(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    caller: PartnerDep,
    filters: FiltersDep,
) -> list[DailyStatistic]:
    query = _officer_query(
        runtime=runtime, session=session, request=request, caller=caller, filters=filters
    )
    result = daily_statistics(session=session, query=query)
    _answered(
        runtime=runtime, session=session, request=request, caller=caller, subject=query.subject_ref
    )
    return result


@router.get(
    "/export",
    summary="Stream the matching entries as NDJSON (one entry per line) or CSV",
    response_class=StreamingResponse,
)
def export(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    caller: PartnerDep,
    filters: FiltersDep,
    export_format: Annotated[Literal["ndjson", "csv"], Query(alias="format")] = "ndjson",
    after_seq: Annotated[int, Query(ge=0)] = 0,
) -> StreamingResponse:
    query = _officer_query(
        runtime=runtime,
        session=session,
        request=request,
        caller=caller,
        filters=filters,
        after_seq=after_seq,
    )
    last = head(session)
    # Stop at the head as it is now, for a stable export that leaves out its own entry.
    documents = _documents(runtime, query, through=last.seq if last is not None else 0)
    _answered(
        runtime=runtime, session=session, request=request, caller=caller, subject=query.subject_ref
    )
    if export_format == "csv":
        return StreamingResponse(
            csv_lines(documents),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="schakel-audit.csv"'},
        )
    return StreamingResponse(ndjson_lines(documents), media_type="application/x-ndjson")


def _documents(runtime: Runtime, query: AuditQuery, *, through: int) -> Iterator[dict[str, Any]]:
    """Matching entries in batches, each read in a short transaction of its own while streaming."""
    after = query.after_seq
    while True:
        page = query.model_copy(update={"after_seq": after, "limit": EXPORT_BATCH})
        with transaction(runtime.sessions) as session:
            rows, _ = find_entries(session=session, query=page)
            documents = [entry_document(row) for row in rows if row.seq <= through]
        yield from documents
        if len(documents) < len(rows) or len(rows) < EXPORT_BATCH:
            return
        after = rows[-1].seq

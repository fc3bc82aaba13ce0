"""Deletion notices over HTTP: recipients read theirs and acknowledge them; participants see who
was told what; privacy officers see what is overdue. Steps: ``gateway.notices.flow``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from dbtypes import MAX_JSON_INT
from gateway.auth.roles import OFFICER_ROLE, REGIONAL_OFFICER_ROLE
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep, TraceDep
from gateway.errors import Forbidden
from gateway.notices import flow
from gateway.notices.schemas import NoticeFeed, NoticeView, OverdueNotice, ToldRecipient
from notice.schemas import Acknowledgement
from notice.service import MAX_FEED_PAGE

router = APIRouter(prefix="/v1/deletion-notices", tags=["partner: deletion notices"])
participant_router = APIRouter(prefix="/v1/me", tags=["participant: access log"])

NoticeId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]


@router.get(
    "",
    summary="Deletion notices addressed to your party, after a cursor",
    description="The same notices also arrive as `deletion.requested` webhooks. Reading one here "
    "the first time is its delivery.",
)
def notice_feed(
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_JSON_INT, description="next_cursor of the previous page")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = 100,
) -> NoticeFeed:
    found = flow.feed(session, runtime, trace_id, caller, after=after, limit=limit)
    return NoticeFeed(notices=found, next_cursor=found[-1].cursor if found else after)


@router.get(
    "/overdue",
    summary="Notices not acknowledged in time (privacy officers: your organisation's; regional: all)",
    responses={403: {"description": "The caller's party holds no privacy-officer role"}},
)
def overdue_notices(
    caller: PartnerDep, runtime: RuntimeDep, session: SessionDep
) -> list[OverdueNotice]:
    if not {OFFICER_ROLE, REGIONAL_OFFICER_ROLE} & set(caller.roles):
        raise Forbidden("overdue deletion notices are for a party with a privacy-officer role")
    return flow.overdue(session, runtime, caller)


@router.post(
    "/{notice_id}/acknowledgement",
    summary="Confirm the deletion, or state the legal ground on which your party keeps the data",
    responses={
        404: {"description": "No such notice addressed to your party"},
        409: {"description": "Acknowledged before, or superseded by a later notice"},
        422: {"description": "A ground the catalogue does not hold for your domain"},
    },
)
def acknowledge_notice(
    notice_id: NoticeId,
    answer: Acknowledgement,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> NoticeView:
    return flow.acknowledge(session, runtime, trace_id, caller, notice_id, answer)


@participant_router.get(
    "/deletion-notices",
    summary="Which organisations were told to delete data about me, and what they answered",
)
def my_deletion_notices(
    participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> list[ToldRecipient]:
    return flow.told_about(session, runtime, participant)

"""Involvement signals over HTTP: partners signal and read their feed; participants consent to
coordination among the parties involved. Steps: ``gateway.signals.flow``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from dbtypes import MAX_JSON_INT
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep, TraceDep
from gateway.signals import flow
from gateway.signals.matching import notification_view
from gateway.signals.schemas import (
    CoordinationConsent,
    CoordinationResult,
    FeedPage,
    SignalRequest,
    SignalView,
)
from plan.signals import MAX_FEED_PAGE, feed

partner_router = APIRouter(prefix="/v1/signals", tags=["partner: involvement signals"])
participant_router = APIRouter(prefix="/v1/me", tags=["participant: plan"])


@partner_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Signal that your party is involved with a participant",
    responses={
        200: {"description": "Signalled before; the first signal stands"},
        403: {"description": "The access token does not carry the purpose"},
        404: {"description": "A pseudonym that names no participant of your domain"},
    },
)
def signal_involvement(
    body: SignalRequest,
    response: Response,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> SignalView:
    """Other involved parties learn of it only once the participant consents to coordination."""
    view = flow.signal(session, runtime, trace_id, caller, body)
    if not view.created:
        response.status_code = status.HTTP_200_OK
    return view


@partner_router.delete(
    "/{signal_id:uuid}",
    summary="End your party's involvement: the parties told of it are told of the end",
    responses={404: {"description": "No such signal of your party"}},
)
def end_involvement(
    signal_id: uuid.UUID,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> SignalView:
    return flow.end_involvement(session, runtime, trace_id, caller, str(signal_id))


@partner_router.get(
    "/feed",
    summary="Your notifications of other parties' involvement, after a cursor",
    description="For systems that cannot receive webhooks; holds the same notifications.",
)
def signal_feed(
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_JSON_INT, description="next_cursor of the previous page")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = 100,
) -> FeedPage:
    notices = feed(session=session, recipient_party=caller.party, after=after, limit=limit)
    return FeedPage(
        notifications=[notification_view(runtime, n, caller.domain) for n in notices],
        next_cursor=notices[-1].id if notices else after,
    )


@participant_router.post(
    "/coordination",
    status_code=status.HTTP_201_CREATED,
    summary="Consent to coordination among the parties involved with me",
    responses={422: {"description": "A named party is not involved with you"}},
)
def consent_to_coordination(
    body: CoordinationConsent,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> CoordinationResult:
    return flow.consent_to_coordination(session, runtime, trace_id, participant, body)

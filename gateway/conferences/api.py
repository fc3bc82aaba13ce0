"""Case conferences over HTTP: a chair schedules one and records outcomes, its parties read the
agenda and each case as far as the policy allows (a disclosure like any other), participants see
the conferences they are on and answer yes or no, and the parties of case conferences count the
obstacles found. Steps: ``gateway.conferences`` (flow, answers, view, outcome, register)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Response, status

from gateway.conferences import answers, flow, outcome, register, scheduling
from gateway.conferences.schemas import (
    CONFERENCE_PURPOSE,
    AnswerView,
    CaseConferenceView,
    CaseRequest,
    ConferenceRequest,
    ConferenceSummary,
    ConferenceView,
    InvitationRequest,
    MyConference,
    OutcomeRequest,
    OutcomeView,
    ParticipantAnswer,
    RecordedAnswer,
    RegisterView,
    ViewRequest,
)
from gateway.conferences.view import ConferenceReader
from gateway.deps import (
    ActingUserDep,
    BearerDep,
    ParticipantDep,
    PartnerDep,
    RuntimeDep,
    SessionDep,
    TraceDep,
)
from gateway.disclosures.flow import Ask, disclose
from gateway.problems import PROBLEM_JSON

router = APIRouter(prefix="/v1/conferences", tags=["partner: case conferences"])
register_router = APIRouter(prefix="/v1", tags=["partner: case conferences"])
participant_router = APIRouter(prefix="/v1/me/conferences", tags=["participant: conferences"])

# Ids are UUIDs; anything else is simply not found. (No maxLength: a bounded path parameter
# makes schemathesis pair a near-boundary id with an invalid body and call the pair valid.)
ConferenceId = Annotated[str, Path(description="The conference's id (a UUID)")]
CaseId = Annotated[str, Path(description="A case on the conference's agenda (a UUID)")]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {}}}


Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: _problem("No such conference, or no such case on its agenda")}
INVALID: Responses = {422: _problem("A field does not hold; `errors` names each by JSON Pointer")}
NOT_A_PARTY: Responses = {
    403: _problem("Your party neither chairs nor is invited: refused, on record")
}
NOT_CHAIR: Responses = {403: _problem("Only the conference's chair does this: refused, on record")}


# --- the chair and the invited parties --------------------------------------------------------


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Schedule a case conference (the chair)",
    responses={
        403: _problem("Your party may not chair one (scope or role): refused, on record"),
        404: _problem(
            "A participant you neither signalled involvement with nor direct: refused, on record"
        ),
        **INVALID,
    },
)
def schedule(
    body: ConferenceRequest,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> ConferenceView:
    """Its window, the parties invited, the categories consent is asked for, the participants."""
    return scheduling.schedule(session, runtime, trace_id, caller, body)


@router.get("", summary="The conferences you chair or are invited to")
def my_party_conferences(
    caller: PartnerDep, runtime: RuntimeDep, session: SessionDep
) -> list[ConferenceSummary]:
    return flow.conferences_of(session, runtime, caller)


@router.get(
    "/{conference_id}",
    summary="The agenda: parties, categories asked, cases (by number, or by name on consent)",
    responses={**NOT_A_PARTY, **NOT_FOUND},
)
def agenda(
    conference_id: ConferenceId,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> ConferenceView:
    return flow.agenda(session, runtime, trace_id, caller, conference_id)


@router.post(
    "/{conference_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    summary="Invite one more party (the chair), until the window ends",
    responses={
        **NOT_CHAIR,
        **NOT_FOUND,
        409: _problem("Invited already, or the window ended"),
        **INVALID,
    },
)
def invite(
    conference_id: ConferenceId,
    body: InvitationRequest,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> ConferenceView:
    return scheduling.invite(session, runtime, trace_id, caller, conference_id, body.party)


@router.post(
    "/{conference_id}/cases",
    status_code=status.HTTP_201_CREATED,
    summary="Put one more participant on the agenda (the chair)",
    responses={
        **NOT_CHAIR,
        404: _problem("No such conference, or a participant you are not a party to (on record)"),
        409: _problem("On the agenda already, or the window ended"),
    },
)
def add_case(
    conference_id: ConferenceId,
    body: CaseRequest,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> ConferenceView:
    return scheduling.add_participant(
        session, runtime, trace_id, caller, conference_id, body.subject
    )


@router.post(
    "/{conference_id}/answers",
    status_code=status.HTTP_201_CREATED,
    summary="Record an answer given on paper or by a legal representative",
    responses={
        **NOT_A_PARTY,
        **NOT_FOUND,
        409: _problem("A yes after the window ended, or a concurrent answer"),
        422: _problem("A case of another conference (on record), or a field that does not hold"),
    },
)
def record_answer(
    conference_id: ConferenceId,
    body: RecordedAnswer,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> AnswerView:
    """A yes names all the conference asked unless ``parties`` and ``categories`` name fewer."""
    return answers.record_answer(session, runtime, trace_id, caller, conference_id, body)


@router.post(
    "/{conference_id}/cases/{case_id}/view",
    summary="Read one case as far as the policy allows (a disclosure like any other)",
    response_model=CaseConferenceView,
    responses={
        403: _problem(
            "Not invited, outside the window, or naming a category you may never receive "
            "(care data for an employer): refused, on record"
        ),
        **NOT_FOUND,
        503: _problem("Policy engine, audit log or database unavailable: nothing disclosed"),
    },
)
async def read_case(
    conference_id: ConferenceId,
    case_id: CaseId,
    bearer: BearerDep,
    acting_user: ActingUserDep,
    runtime: RuntimeDep,
    trace_id: TraceDep,
    body: ViewRequest | None = None,
) -> Response:
    """Without the participant's consent for this conference naming you, the case is anonymous.
    Without ``categories``, the read asks for those the conference asked consent for."""
    asked = body or ViewRequest()
    categories: tuple[str, ...] = (
        tuple(asked.categories)
        if asked.categories is not None
        else await anyio.to_thread.run_sync(flow.asked_categories, runtime, conference_id)
    )
    shown = await disclose(
        runtime=runtime,
        bearer=bearer,
        ask=Ask(
            subject=None,
            purpose=CONFERENCE_PURPOSE,
            categories=categories,
            role=asked.role,
            acting_user=acting_user,
        ),
        reader=ConferenceReader(conference_id, case_id, named=asked.categories is not None),
        trace_id=trace_id,
    )
    return Response(content=shown.body, media_type=shown.media_type)


@router.post(
    "/{conference_id}/cases/{case_id}/outcomes",
    status_code=status.HTTP_201_CREATED,
    summary="Record a case's outcome (the chair): advice, obstacles, actions for the plan",
    responses={
        **NOT_CHAIR,
        **NOT_FOUND,
        409: _problem("Before the window began, or actions without the participant's consent"),
        **INVALID,
    },
)
def record_outcome(
    conference_id: ConferenceId,
    case_id: CaseId,
    body: OutcomeRequest,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> OutcomeView:
    return outcome.record_outcome(session, runtime, trace_id, caller, conference_id, case_id, body)


@register_router.get(
    "/obstacle-register",
    summary="Obstacles found in case conferences, counted; small counts suppressed",
    response_model=RegisterView,
    responses={403: _problem("Your party takes no part in case conferences"), **INVALID},
)
def obstacle_register(
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
    since: Annotated[
        date | None, Query(alias="from", description="First day (default: 4 quarters back)")
    ] = None,
    until: Annotated[date | None, Query(description="Last day (default: today)")] = None,
    group_by: Annotated[
        list[Literal["code", "region", "period", "domain"]] | None,
        Query(alias="groupBy", description="Count by these (default: all four)"),
    ] = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
) -> RegisterView:
    query = register.register_query(runtime, since, until, group_by, region)
    return register.obstacle_register(session, runtime, trace_id, caller, query)


# --- the participant --------------------------------------------------------------------------


@participant_router.get("", summary="Conferences I am on: who comes, what each may see, my answer")
def my_conferences(
    participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> list[MyConference]:
    return answers.my_conferences(session, runtime, participant)


@participant_router.post(
    "/{conference_id}/answer",
    status_code=status.HTTP_201_CREATED,
    summary="Say yes or no to being discussed by name in this conference",
    responses={
        404: _problem("No such conference, or you are not on its agenda"),
        409: _problem("A yes after the window ended"),
    },
)
def answer(
    conference_id: ConferenceId,
    body: ParticipantAnswer,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> AnswerView:
    """Yes names every party of the conference and every category asked; no, nobody."""
    return answers.answer_as_participant(
        session, runtime, trace_id, participant, conference_id, body.answer
    )

"""The shared plan over HTTP: participants read theirs and choose the director; partners add and
change their own actions, the director sets goals, and a partner reads the plan as far as the
policy allows (``POST /v1/plans/query``, audited like a disclosure). Steps: ``gateway.plans.flow``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from pydantic import Field

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
from gateway.plans import flow
from gateway.plans.schemas import (
    ActionRequest,
    DirectorChoice,
    DirectorProposal,
    GoalRequest,
    OwnPlanView,
    PlanDisclosure,
    PlanQuery,
)
from gateway.plans.view import PLAN_CATEGORIES, PlanReader
from plan import service
from plan.schemas import ActionDraft, AssignmentView, DirectorView, GoalDraft, ItemChange, ItemView

participant_router = APIRouter(prefix="/v1/me", tags=["participant: plan"])
partner_router = APIRouter(prefix="/v1/plans", tags=["partner: plan"])

NOT_REACHABLE_RESPONSE: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "Unknown participant, or one your party has not signalled involvement "
        "with and does not direct: the same answer either way"
    }
}


# --- participant side -------------------------------------------------------------------------


@participant_router.get("/plan", summary="My plan: director, goals, actions, who is involved")
def my_plan(participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep) -> OwnPlanView:
    return flow.own_plan(session, runtime, participant)


@participant_router.get(
    "/plan/items/{item_id}/history", summary="Every version of one goal or action of my plan"
)
def my_item_history(
    item_id: str, participant: ParticipantDep, session: SessionDep
) -> list[ItemView]:
    versions = service.item_history(session=session, participant_id=participant.id, item_id=item_id)
    return [service.item_view(version) for version in versions]


@participant_router.put(
    "/director",
    summary="Choose (or change) the director of my plan",
    responses={422: {"description": "Not an enabled party registered for case-coordination"}},
)
def choose_director(
    choice: DirectorChoice,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> DirectorView:
    """Your choice is your consent: it holds until you end it or choose another party."""
    return flow.choose_director(session, runtime, trace_id, participant, choice.party)


@participant_router.delete(
    "/director",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the directorship",
    responses={404: {"description": "Your plan has no director"}},
)
def end_director(
    participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep, trace_id: TraceDep
) -> Response:
    flow.end_director(session, runtime, trace_id, participant)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@participant_router.get("/director/history", summary="Every assignment and hand-over")
def my_director_history(participant: ParticipantDep, session: SessionDep) -> list[AssignmentView]:
    return service.director_history(session=session, participant_id=participant.id)


# --- partner side -----------------------------------------------------------------------------


@partner_router.post(
    "/goals",
    status_code=status.HTTP_201_CREATED,
    summary="Add a goal to the plan (the director)",
    responses={
        403: {"description": "You are involved but not the director"},
        **NOT_REACHABLE_RESPONSE,
    },
)
def add_goal(
    body: GoalRequest, caller: PartnerDep, runtime: RuntimeDep, session: SessionDep,
    trace_id: TraceDep,
) -> ItemView:  # fmt: skip
    draft = GoalDraft.model_validate(body.model_dump(exclude={"subject"}))
    return flow.add_goal(session, runtime, trace_id, caller, body.subject, draft)


@partner_router.post(
    "/actions",
    status_code=status.HTTP_201_CREATED,
    summary="Add an action your party owns",
    responses=NOT_REACHABLE_RESPONSE,
)
def add_action(
    body: ActionRequest, caller: PartnerDep, runtime: RuntimeDep, session: SessionDep,
    trace_id: TraceDep,
) -> ItemView:  # fmt: skip
    draft = ActionDraft.model_validate(body.model_dump(exclude={"subject"}))
    return flow.add_action(session, runtime, trace_id, caller, body.subject, draft)


@partner_router.patch(
    "/items/{item_id}",
    summary="Change a goal (the director) or one of your actions: a new version",
    responses={
        403: {"description": "Another party's action, or a goal while you are not the director"},
        409: {"description": "The item moved on since base_version"},
        **NOT_REACHABLE_RESPONSE,
    },
)
def change_item(
    item_id: Annotated[str, Field(max_length=36)],
    change: ItemChange,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> ItemView:
    return flow.change_item(session, runtime, trace_id, caller, item_id, change)


@partner_router.put(
    "/director",
    summary="Assign a director, or hand over as the director",
    responses={
        403: {"description": "A director is in place and you are not it"},
        409: {"description": "No consent in force for case-coordination names that party"},
        **NOT_REACHABLE_RESPONSE,
    },
)
def propose_director(
    body: DirectorProposal,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> DirectorView:
    """Needs the participant's consent: one in force for case-coordination naming that party."""
    return flow.propose_director(session, runtime, trace_id, caller, body.subject, body.party)


@partner_router.post(
    "/query",
    summary="Read the shared plan, as far as the policy allows",
    response_model=PlanDisclosure,
    responses={
        403: {"description": "The access token does not carry the purpose"},
        503: {"description": "Policy engine, audit log or database unavailable: nothing disclosed"},
    },
)
async def query_plan(
    body: PlanQuery,
    bearer: BearerDep,
    runtime: RuntimeDep,
    trace_id: TraceDep,
    acting_user: ActingUserDep,
) -> Response:
    """The same disclosure flow as ``/v1/disclosures``: every answer and refusal is audited."""
    shown = await disclose(
        runtime=runtime,
        bearer=bearer,
        ask=Ask(
            subject=body.subject,
            purpose=body.purpose,
            categories=PLAN_CATEGORIES,
            role=body.role,
            acting_user=acting_user,
        ),
        reader=PlanReader(),
        trace_id=trace_id,
    )
    return Response(content=shown.body, media_type=shown.media_type)

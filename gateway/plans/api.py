"""The shared plan over HTTP: participants read theirs; partners add and change their own
actions, the director sets goals (choosing and handing over the director: ``gateway.plans.director_api``).

Who may reach a participant's plan to *write* is the parties that signalled involvement and the
director; to everyone else a participant is 'not found', whether enrolled or not, with one and
the same problem body. *Reading* the plan as a partner is a policy decision
(``POST /v1/plans/query``, see ``gateway.plans.query``). Every change is audited in its transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from consent.models import Consent
from consent.service import consents_in_force
from gateway.audit_log.trail import record
from gateway.auth.access_tokens import Caller
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep
from gateway.errors import Forbidden, NotFound
from gateway.identity.models import Participant
from gateway.identity.subjects import SubjectRef, resolve_subject
from gateway.identity.vault import ParticipantRef
from gateway.runtime import Runtime
from plan import service
from plan.models import PlanItem
from plan.schemas import (
    ActionDraft,
    Director,
    DirectorView,
    GoalDraft,
    ItemChange,
    ItemKind,
    ItemView,
)
from plan.signals import involved_parties, involvements

participant_router = APIRouter(prefix="/v1/me", tags=["participant: plan"])
partner_router = APIRouter(prefix="/v1/plans", tags=["partner: plan"])

UNREACHABLE = "no participant under this reference is reachable for your party"
NOT_REACHABLE_RESPONSE: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "Unknown participant, or one your party has not signalled involvement "
        "with and does not direct: the same answer either way"
    }
}


@dataclass(frozen=True)
class Reach:
    """A participant the caller may write to, with what is in force now."""

    participant: ParticipantRef
    consents: list[Consent]
    director: Director | None


def reach(session: Session, runtime: Runtime, caller: Caller, subject: SubjectRef) -> Reach:
    """The participant if the caller signalled involvement or directs; else 404, same body."""
    participant = resolve_subject(session, runtime.identity_keys, caller, subject)
    if participant is None:
        raise NotFound(UNREACHABLE)
    return reach_participant(session, runtime, caller, participant)


def reach_participant(
    session: Session, runtime: Runtime, caller: Caller, participant: ParticipantRef
) -> Reach:
    consents = consents_in_force(session=session, participant_id=participant.id, at=runtime.clock())
    director = service.current_director(
        session=session, participant_id=participant.id, consents=consents
    )
    directs = director is not None and director.party == caller.party
    if not directs and caller.party not in involved_parties(
        session=session, participant_id=participant.id
    ):
        raise NotFound(UNREACHABLE)
    return Reach(participant, consents, director)


def director_view(director: Director | None) -> DirectorView | None:
    if director is None:
        return None
    return DirectorView(
        party=director.party, domain=director.domain, basis=director.basis, since=director.since
    )


def _audit_item(
    session: Session,
    runtime: Runtime,
    request: Request,
    caller: Caller,
    participant: ParticipantRef,
    item: PlanItem,
) -> None:
    view = service.item_view(item)
    record(
        session=session, runtime=runtime, request=request, actor_party=caller.party,
        actor_domain=caller.domain, action=Action.PLAN_UPDATE, outcome=Outcome.OK,
        participant=participant, categories=[f"plan.{item.kind}s"],
        reason=f"{item.kind} {item.item_id} version {item.version}",
        payload_digest=hashlib.sha256(view.model_dump_json().encode("utf-8")).hexdigest(),
    )  # fmt: skip


# --- participant side -------------------------------------------------------------------------


class InvolvementView(BaseModel):
    party: str
    domain: str
    purpose: str
    contact: str
    signalled_at: datetime


class OwnPlanView(BaseModel):
    """Everything of the participant's own plan: director, goals, actions, who is involved."""

    director: DirectorView | None
    goals: list[ItemView]
    actions: list[ItemView]
    involved: list[InvolvementView]


def involvement_views(session: Session, participant_id: str) -> list[InvolvementView]:
    return [
        InvolvementView(
            party=i.party,
            domain=i.domain,
            purpose=i.purpose,
            contact=i.contact,
            signalled_at=i.signalled_at,
        )
        for i in involvements(session=session, participant_id=participant_id)
    ]


@participant_router.get("/plan", summary="My plan: director, goals, actions, who is involved")
def my_plan(participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep) -> OwnPlanView:
    consents = consents_in_force(session=session, participant_id=participant.id, at=runtime.clock())
    items = service.current_items(session=session, participant_id=participant.id)
    return OwnPlanView(
        director=director_view(
            service.current_director(
                session=session, participant_id=participant.id, consents=consents
            )
        ),
        goals=[service.item_view(i) for i in items if i.kind == ItemKind.GOAL],
        actions=[service.item_view(i) for i in items if i.kind == ItemKind.ACTION],
        involved=involvement_views(session, participant.id),
    )


@participant_router.get(
    "/plan/items/{item_id}/history", summary="Every version of one goal or action of my plan"
)
def my_item_history(
    item_id: str, participant: ParticipantDep, session: SessionDep
) -> list[ItemView]:
    versions = service.item_history(session=session, participant_id=participant.id, item_id=item_id)
    return [service.item_view(version) for version in versions]


# --- partner side -----------------------------------------------------------------------------


class GoalRequest(GoalDraft):
    subject: SubjectRef


class ActionRequest(ActionDraft):
    subject: SubjectRef


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
    body: GoalRequest, request: Request, caller: PartnerDep, runtime: RuntimeDep,
    session: SessionDep,
) -> ItemView:  # fmt: skip
    reached = reach(session, runtime, caller, body.subject)
    if reached.director is None or reached.director.party != caller.party:
        raise Forbidden("only the participant's director sets the plan's goals")
    goal = service.add_goal(
        session=session, participant_id=reached.participant.id,
        draft=GoalDraft.model_validate(body.model_dump(exclude={"subject"})),
        party=caller.party, domain=caller.domain, clock=runtime.clock,
    )  # fmt: skip
    _audit_item(session, runtime, request, caller, reached.participant, goal)
    return service.item_view(goal)


@partner_router.post(
    "/actions",
    status_code=status.HTTP_201_CREATED,
    summary="Add an action your party owns",
    responses=NOT_REACHABLE_RESPONSE,
)
def add_action(
    body: ActionRequest, request: Request, caller: PartnerDep, runtime: RuntimeDep,
    session: SessionDep,
) -> ItemView:  # fmt: skip
    reached = reach(session, runtime, caller, body.subject)
    action = service.add_action(
        session=session, participant_id=reached.participant.id,
        draft=ActionDraft.model_validate(body.model_dump(exclude={"subject"})),
        party=caller.party, domain=caller.domain, clock=runtime.clock,
    )  # fmt: skip
    _audit_item(session, runtime, request, caller, reached.participant, action)
    return service.item_view(action)


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
    request: Request,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> ItemView:
    participant_id = service.participant_of_item(session=session, item_id=item_id)
    participant = session.get(Participant, participant_id) if participant_id else None
    if participant is None:
        raise NotFound(UNREACHABLE)
    reached = reach_participant(session, runtime, caller, participant)
    changed = service.change_item(
        session=session, participant_id=participant.id, item_id=item_id, change=change,
        party=caller.party,
        is_director=reached.director is not None and reached.director.party == caller.party,
        clock=runtime.clock,
    )  # fmt: skip
    _audit_item(session, runtime, request, caller, participant, changed)
    return service.item_view(changed)

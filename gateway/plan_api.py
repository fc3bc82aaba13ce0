"""The shared plan and its director over HTTP: participants read theirs and choose the director;
partners add and change their own actions, the director sets goals and hands over.

Who may reach a participant's plan to *write* is the parties that signalled involvement and the
director; to everyone else a participant is 'not found', whether enrolled or not, with one and
the same problem body. *Reading* the plan as a partner is a policy decision
(``POST /v1/plans/query``, see ``gateway.plan_query``). Every change is audited in its transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from audit.schemas import Outcome
from consent.models import Consent
from consent.service import consents_in_force
from gateway.audit_trail import PARTICIPANT_ACTOR, record
from gateway.auth.access_tokens import Caller
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep
from gateway.errors import Forbidden, InvalidInput, NotFound
from gateway.identity.models import Participant
from gateway.registry.service import find_party
from gateway.runtime import Runtime
from gateway.subjects import SubjectRef, resolve_subject
from plan import service
from plan.errors import DirectorNotAllowed
from plan.models import PlanItem
from plan.schemas import (
    ActionDraft,
    AssignmentView,
    Director,
    DirectorView,
    GoalDraft,
    ItemChange,
    ItemKind,
    ItemView,
    Name,
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

    participant: Participant
    consents: list[Consent]
    director: Director | None


def reach(session: Session, runtime: Runtime, caller: Caller, subject: SubjectRef) -> Reach:
    """The participant if the caller signalled involvement or directs; else 404, same body."""
    participant = resolve_subject(session, runtime.identity_keys, caller, subject)
    if participant is None:
        raise NotFound(UNREACHABLE)
    return reach_participant(session, runtime, caller, participant)


def reach_participant(
    session: Session, runtime: Runtime, caller: Caller, participant: Participant
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
    participant: Participant,
    item: PlanItem,
) -> None:
    view = service.item_view(item)
    record(
        session=session, runtime=runtime, request=request, actor_party=caller.party,
        actor_domain=caller.domain, action="plan.update", outcome=Outcome.OK,
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


class DirectorChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party: Name = Field(description="The party that is to direct your plan, e.g. gemeente-leiden")


def _director_candidate(session: Session, party_id: str) -> tuple[str, str]:
    """An enabled party registered for case coordination; anything else is refused (422)."""
    party = find_party(session, party_id)
    if party is None or not party.enabled or service.COORDINATION not in party.purposes:
        raise InvalidInput(
            f"{party_id!r} is not an enabled party registered for {service.COORDINATION}",
            field="party",
        )
    return party.id, party.domain


def _audit_director(
    session: Session,
    runtime: Runtime,
    request: Request,
    *,
    actor: tuple[str, str],
    participant: Participant,
    action: str,
    reason: str,
    consent_ids: list[str],
) -> None:
    record(
        session=session, runtime=runtime, request=request, actor_party=actor[0],
        actor_domain=actor[1], action=action, outcome=Outcome.OK, participant=participant,
        purpose=service.COORDINATION, consent_ids=consent_ids, reason=reason,
    )  # fmt: skip


@participant_router.put("/director", summary="Choose (or change) the director of my plan")
def choose_director(
    choice: DirectorChoice,
    request: Request,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> DirectorView:
    """Your choice is your consent: it holds until you end it or choose another party."""
    party, domain = _director_candidate(session, choice.party)
    consents = consents_in_force(session=session, participant_id=participant.id, at=runtime.clock())
    current = service.current_director(
        session=session, participant_id=participant.id, consents=consents
    )
    if current is None or current.party != party or current.basis != service.PARTICIPANT:
        row = service.assign_director(
            session=session, participant_id=participant.id, party=party, domain=domain,
            assigned_by=PARTICIPANT_ACTOR, consent_id=None, current=current, clock=runtime.clock,
        )  # fmt: skip
        _audit_director(
            session, runtime, request, actor=(PARTICIPANT_ACTOR, PARTICIPANT_ACTOR),
            participant=participant, action="director.assign", consent_ids=[],
            reason=f"{row.kind} to {party} by the participant",
        )  # fmt: skip
    chosen = service.current_director(
        session=session, participant_id=participant.id, consents=consents
    )
    assert chosen is not None
    return DirectorView(party=chosen.party, domain=chosen.domain, basis=chosen.basis,
                        since=chosen.since)  # fmt: skip


@participant_router.delete(
    "/director", status_code=status.HTTP_204_NO_CONTENT, summary="End the directorship"
)
def end_director(
    request: Request, participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    consents = consents_in_force(session=session, participant_id=participant.id, at=runtime.clock())
    current = service.current_director(
        session=session, participant_id=participant.id, consents=consents
    )
    if current is None:
        raise NotFound("your plan has no director")
    service.end_director(
        session=session, participant_id=participant.id, current=current,
        ended_by=PARTICIPANT_ACTOR, clock=runtime.clock,
    )  # fmt: skip
    _audit_director(
        session, runtime, request, actor=(PARTICIPANT_ACTOR, PARTICIPANT_ACTOR),
        participant=participant, action="director.end", consent_ids=[],
        reason=f"directorship of {current.party} ended by the participant",
    )  # fmt: skip
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@participant_router.get("/director/history", summary="Every assignment and hand-over")
def my_director_history(participant: ParticipantDep, session: SessionDep) -> list[AssignmentView]:
    return service.director_history(session=session, participant_id=participant.id)


# --- partner side -----------------------------------------------------------------------------


class GoalRequest(GoalDraft):
    subject: SubjectRef


class ActionRequest(ActionDraft):
    subject: SubjectRef


class DirectorProposal(BaseModel):
    """Assign a director (yourself by default) or, as the director, hand over to another party."""

    model_config = ConfigDict(extra="forbid")

    subject: SubjectRef
    party: Name | None = Field(default=None, description="Default: your own party")


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
    request: Request,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> DirectorView:
    """Needs the participant's consent: one in force for case-coordination naming that party."""
    reached = reach(session, runtime, caller, body.subject)
    current = reached.director
    if current is not None and current.party != caller.party:
        raise Forbidden("the plan has a director; only that party or the participant hands it over")
    party, domain = _director_candidate(session, body.party or caller.party)
    if current is not None and current.party == party:
        return DirectorView(party=party, domain=domain, basis=current.basis, since=current.since)
    granting = [
        c for c in reached.consents if c.purpose == service.COORDINATION and c.grantee == party
    ]
    if not granting:
        raise DirectorNotAllowed(
            f"no consent in force for {service.COORDINATION} names {party}; the participant "
            "must consent to coordination by that party (or choose the director themselves)",
            reason="director.consent_missing",
        )
    row = service.assign_director(
        session=session, participant_id=reached.participant.id, party=party, domain=domain,
        assigned_by=caller.party, consent_id=granting[0].id, current=current, clock=runtime.clock,
    )  # fmt: skip
    _audit_director(
        session, runtime, request, actor=(caller.party, caller.domain),
        participant=reached.participant, action="director.assign",
        consent_ids=[c.id for c in granting], reason=f"{row.kind} to {party} on consent",
    )  # fmt: skip
    return DirectorView(party=party, domain=domain, basis=row.basis, since=row.at)

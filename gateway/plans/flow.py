"""The plan area's steps, shared by the API and the portal: who may reach a plan to write it,
the participant's own plan, partners' goals and actions, and the director.

Who may reach a participant's plan to *write* is the parties that signalled involvement and the
director; to everyone else a participant is 'not found', whether enrolled or not, with one and
the same problem body. *Reading* the plan as a partner is a disclosure (``gateway.plans.view``).
The director is chosen by the participant (their choice is their consent), or assigned by a
partner on a ``case-coordination`` consent naming that party; every assignment, hand-over, end
and item change is audited in its transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from consent.models import Consent
from consent.service import consents_in_force
from gateway.audit_log.trail import PARTICIPANT_ACTOR
from gateway.auth.access_tokens import Caller
from gateway.errors import Forbidden, InvalidInput, NotFound
from gateway.identity.models import Participant
from gateway.identity.subjects import SubjectRef, resolve_subject
from gateway.identity.vault import ParticipantRef
from gateway.plans.schemas import InvolvementView, OwnPlanView
from gateway.registry.service import find_party
from gateway.runtime import Runtime
from plan import service
from plan.errors import DirectorNotAllowed
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

UNREACHABLE = "no participant under this reference is reachable for your party"


@dataclass(frozen=True)
class Reach:
    """A participant the caller may write to, with what is in force now."""

    participant: ParticipantRef
    consents: list[Consent]
    director: Director | None

    def directed_by(self, party: str) -> bool:
        return self.director is not None and self.director.party == party


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
    reached = Reach(participant, consents, director)
    if not reached.directed_by(caller.party) and caller.party not in involved_parties(
        session=session, participant_id=participant.id
    ):
        raise NotFound(UNREACHABLE)
    return reached


def director_view(director: Director | None) -> DirectorView | None:
    if director is None:
        return None
    return DirectorView(
        party=director.party, domain=director.domain, basis=director.basis, since=director.since
    )


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


def items_of_kind(items: list[PlanItem], kind: ItemKind) -> list[ItemView]:
    return [service.item_view(item) for item in items if item.kind == kind]


# --- the participant's own plan ---------------------------------------------------------------


def own_plan(session: Session, runtime: Runtime, participant: ParticipantRef) -> OwnPlanView:
    """Everything of the participant's own plan, as the portal and ``/v1/me/plan`` show it."""
    consents = consents_in_force(session=session, participant_id=participant.id, at=runtime.clock())
    items = service.current_items(session=session, participant_id=participant.id)
    return OwnPlanView(
        director=director_view(
            service.current_director(
                session=session, participant_id=participant.id, consents=consents
            )
        ),
        goals=items_of_kind(items, ItemKind.GOAL),
        actions=items_of_kind(items, ItemKind.ACTION),
        involved=involvement_views(session, participant.id),
    )


# --- partners' goals and actions --------------------------------------------------------------


def audit_item(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    participant: ParticipantRef,
    item: PlanItem,
) -> ItemView:
    """Every new version of a goal or action is on record, by the party that wrote it."""
    view = service.item_view(item)
    runtime.trail.record(
        session, trace_id=trace_id, actor_party=caller.party, actor_domain=caller.domain,
        action=Action.PLAN_UPDATE, outcome=Outcome.OK, participant=participant,
        categories=[f"plan.{item.kind}s"],
        reason=f"{item.kind} {item.item_id} version {item.version}",
        payload_digest=hashlib.sha256(view.model_dump_json().encode("utf-8")).hexdigest(),
    )  # fmt: skip
    return view


def add_goal(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    subject: SubjectRef,
    draft: GoalDraft,
) -> ItemView:
    """Goals are the director's to set."""
    reached = reach(session, runtime, caller, subject)
    if not reached.directed_by(caller.party):
        raise Forbidden("only the participant's director sets the plan's goals")
    goal = service.add_goal(
        session=session, participant_id=reached.participant.id, draft=draft,
        party=caller.party, domain=caller.domain, clock=runtime.clock,
    )  # fmt: skip
    return audit_item(session, runtime, trace_id, caller, reached.participant, goal)


def add_action(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    subject: SubjectRef,
    draft: ActionDraft,
) -> ItemView:
    """An action belongs to the party that adds it."""
    reached = reach(session, runtime, caller, subject)
    action = service.add_action(
        session=session, participant_id=reached.participant.id, draft=draft,
        party=caller.party, domain=caller.domain, clock=runtime.clock,
    )  # fmt: skip
    return audit_item(session, runtime, trace_id, caller, reached.participant, action)


def change_item(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    item_id: str,
    change: ItemChange,
) -> ItemView:
    """A new version of a goal (the director) or of the caller's own action."""
    participant_id = service.participant_of_item(session=session, item_id=item_id)
    participant = session.get(Participant, participant_id) if participant_id else None
    if participant is None:
        raise NotFound(UNREACHABLE)
    reached = reach_participant(session, runtime, caller, participant)
    changed = service.change_item(
        session=session, participant_id=participant.id, item_id=item_id, change=change,
        party=caller.party, is_director=reached.directed_by(caller.party), clock=runtime.clock,
    )  # fmt: skip
    return audit_item(session, runtime, trace_id, caller, participant, changed)


# --- the director -----------------------------------------------------------------------------


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
    trace_id: str | None,
    *,
    actor: tuple[str, str],
    participant: ParticipantRef,
    action: Action,
    reason: str,
    consent_ids: list[str],
) -> None:
    runtime.trail.record(
        session, trace_id=trace_id, actor_party=actor[0], actor_domain=actor[1], action=action,
        outcome=Outcome.OK, participant=participant, purpose=service.COORDINATION,
        consent_ids=consent_ids, reason=reason,
    )  # fmt: skip


def choose_director(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    participant: ParticipantRef,
    party_id: str,
) -> DirectorView:
    """The participant's choice is their consent: it holds until they end it or choose again."""
    party, domain = _director_candidate(session, party_id)
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
            session, runtime, trace_id, actor=(PARTICIPANT_ACTOR, PARTICIPANT_ACTOR),
            participant=participant, action=Action.DIRECTOR_ASSIGN, consent_ids=[],
            reason=f"{row.kind} to {party} by the participant",
        )  # fmt: skip
    chosen = director_view(
        service.current_director(session=session, participant_id=participant.id, consents=consents)
    )
    assert chosen is not None
    return chosen


def end_director(
    session: Session, runtime: Runtime, trace_id: str | None, participant: ParticipantRef
) -> None:
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
        session, runtime, trace_id, actor=(PARTICIPANT_ACTOR, PARTICIPANT_ACTOR),
        participant=participant, action=Action.DIRECTOR_END, consent_ids=[],
        reason=f"directorship of {current.party} ended by the participant",
    )  # fmt: skip


def propose_director(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    subject: SubjectRef,
    party_id: str | None,
) -> DirectorView:
    """Needs the participant's consent: one in force for case-coordination naming that party."""
    reached = reach(session, runtime, caller, subject)
    current = reached.director
    if current is not None and current.party != caller.party:
        raise Forbidden("the plan has a director; only that party or the participant hands it over")
    party, domain = _director_candidate(session, party_id or caller.party)
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
        session, runtime, trace_id, actor=(caller.party, caller.domain),
        participant=reached.participant, action=Action.DIRECTOR_ASSIGN,
        consent_ids=[c.id for c in granting], reason=f"{row.kind} to {party} on consent",
    )  # fmt: skip
    return DirectorView(party=party, domain=domain, basis=row.basis, since=row.at)

"""A case's outcome: the chair records the advice and the obstacles found, coded from the
catalogue's vocabulary, and the agreed actions go into the participant's shared plan, each owned
by a party of the conference.

Actions enter the plan only on the participant's consent for this conference, and only for a
party that consent names: a participant discussed anonymously keeps their plan to themselves
(the advice and the coded obstacles are still recorded, and counted in the register). The
outcome, and each plan action with the chair as the one who wrote it down, are on record.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome as AuditOutcome
from conference import answers as answer_rules
from conference import outcomes as outcome_rules
from conference import service
from conference.models import Outcome
from conference.schemas import Member
from gateway.auth.access_tokens import Caller
from gateway.conferences.flow import (
    as_chair,
    pointer_error,
    record,
    vocabulary,
)
from gateway.conferences.schemas import AgreedAction, OutcomeRequest, OutcomeView
from gateway.errors import Conflict
from gateway.identity.vault import ParticipantId
from gateway.plans.flow import audit_item
from gateway.runtime import Runtime
from plan import service as plan_service
from plan.schemas import ActionDraft, ItemView

OUTCOME = Action.CONFERENCE_OUTCOME


def record_outcome(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    conference_id: str,
    case_id: str,
    request: OutcomeRequest,
) -> OutcomeView:
    """The chair's record of one case; a new version when recorded again."""
    found = as_chair(session, runtime, trace_id, caller, conference_id)
    conference = found.conference
    case = service.find_case(session, conference, case_id)
    outcome_rules.check_obstacles(request, vocabulary(runtime, conference.purpose))
    owners = _owners(session, found.members, case.id, request.actions)
    participant = ParticipantId(case.participant_id)
    items: list[ItemView] = []
    for action, (party, domain) in zip(request.actions, owners, strict=True):
        item = plan_service.add_action(
            session=session, participant_id=case.participant_id,
            draft=ActionDraft(
                title=action.title, description=action.description, due_date=action.due_date
            ),
            party=party, domain=domain, clock=runtime.clock, recorded_by=caller.party,
        )  # fmt: skip
        items.append(audit_item(session, runtime, trace_id, caller, participant, item))
    outcome = outcome_rules.record_outcome(
        session=session, conference=conference, case=case, draft=request,
        plan_items=[item.item_id for item in items], recorded_by=caller.party,
        vocabulary=vocabulary(runtime, conference.purpose), clock=runtime.clock,
    )  # fmt: skip
    codes = ", ".join(f"{o.code} ({o.domain})" for o in request.obstacles) or "none"
    record(
        session, runtime, trace_id, caller, OUTCOME, AuditOutcome.OK,
        f"conference {conference_id}: case {case.number} outcome version {outcome.version}; "
        f"obstacles {codes}; {len(items)} actions into the plan",
        participant=participant, purpose=conference.purpose,
    )  # fmt: skip
    return outcome_view(outcome, items)


def _owners(
    session: Session, members: list[Member], case_id: str, actions: list[AgreedAction]
) -> list[tuple[str, str]]:
    """Each action's owner: a party of the conference that the participant's yes names."""
    if not actions:
        return []
    answer = answer_rules.latest_answers(session, [case_id]).get(case_id)
    if answer is None or answer.answer != "yes":
        raise Conflict(
            "agreed actions go into the participant's plan only on their consent for this "
            "conference; record the advice and obstacles without actions",
            reason="conference.consent_missing",
        )
    domains = {member.party: member.domain for member in members}
    owners = []
    for index, action in enumerate(actions):
        if action.owner not in domains:
            raise pointer_error(
                f"{action.owner!r} takes no part in this conference", f"actions/{index}/owner"
            )
        if action.owner not in answer.parties:
            raise pointer_error(
                f"the participant's consent for this conference does not name {action.owner}",
                f"actions/{index}/owner",
            )
        owners.append((action.owner, domains[action.owner]))
    return owners


def latest_outcome(session: Session, conference_id: str, case_id: str) -> OutcomeView | None:
    """The case's newest outcome, for the chair's page: the actions as the chair wrote them
    (their first version), not as their owners have changed them since."""
    conference = service.find_conference(session, conference_id)
    case = service.find_case(session, conference, case_id)
    outcome = outcome_rules.latest_outcomes(session, [case.id]).get(case.id)
    if outcome is None:
        return None
    items = [
        plan_service.item_view(
            plan_service.item_history(
                session=session, participant_id=case.participant_id, item_id=item_id
            )[0]
        )
        for item_id in outcome.plan_items
    ]
    return outcome_view(outcome, items)


def outcome_view(outcome: Outcome, items: list[ItemView]) -> OutcomeView:
    return OutcomeView.model_validate(
        {
            "conference_id": outcome.conference_id,
            "case_id": outcome.case_id,
            "version": outcome.version,
            "advice": outcome.advice,
            "obstacles": outcome.obstacles,
            "actions": items,
            "recorded_by": outcome.recorded_by,
            "recorded_at": outcome.recorded_at,
        }
    )

"""``POST /v1/plans/query``: a partner reads the shared plan through the policy, like a disclosure.

The plan is asked for as the categories ``plan.goals`` and ``plan.actions``, with the consents in
force and the participant's director in the policy input (DESIGN.md "Policy decision contract").
Only what the decision allows is returned; the director also sees who is involved (when the
policy grants it the ``director.overview``). One audit entry (``disclose`` or ``deny``) carries the
digest of the exact bytes sent, in the request's transaction. An unknown participant and one
without consent give the same answer.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from audit.actions import Action
from audit.schemas import Outcome
from consent.service import consents_in_force
from gateway.audit_log.trail import record
from gateway.auth.access_tokens import Caller, check_scope
from gateway.deps import PartnerDep, RuntimeDep, SessionDep
from gateway.disclosures.flow import acting_role
from gateway.disclosures.schemas import Name, Withheld
from gateway.errors import Forbidden, ServiceUnavailable
from gateway.identity.subjects import SubjectRef, resolve_subject
from gateway.identity.vault import ParticipantRef, pseudonym
from gateway.plans.api import InvolvementView, director_view, involvement_views
from gateway.policy.engine import Decision, PolicyEngineUnavailable
from gateway.policy.input import decision_input
from gateway.runtime import Runtime
from plan import service
from plan.models import PlanItem
from plan.schemas import DirectorView, ItemKind, ItemView

GOALS, ACTIONS = "plan.goals", "plan.actions"
PLAN_CATEGORIES = (GOALS, ACTIONS)
FIELD_OF = {GOALS: "goals", ACTIONS: "actions"}
DIRECTOR_OVERVIEW = "director.overview"
UNAVAILABLE = "policy-engine-unavailable"

router = APIRouter(prefix="/v1/plans", tags=["partner: plan"])


class PlanQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: SubjectRef
    purpose: Name
    role: Name | None = Field(default=None, description="The role the request is made in")


class PlanDisclosure(BaseModel):
    """Only what the policy allows: ``goals``/``actions`` are null when withheld.

    ``involved`` (who signalled involvement, with contact) is given to the director only.
    """

    decision_id: str
    purpose: str
    decided_at: datetime
    policy_revision: str
    subject: str | None
    director: DirectorView | None
    goals: list[ItemView] | None
    actions: list[ItemView] | None
    involved: list[InvolvementView] | None
    withheld: list[Withheld]


@router.post(
    "/query",
    summary="Read the shared plan, as far as the policy allows",
    response_model=PlanDisclosure,
    responses={
        403: {"description": "The access token does not carry the purpose"},
        503: {"description": "Policy engine unavailable: nothing disclosed"},
    },
)
def query_plan(
    body: PlanQuery,
    request: Request,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    """Decide with the same policy path as disclosures; every answer and refusal is audited."""
    try:
        check_scope(caller, body.purpose)
        view, participant, decision = _decided_view(session, runtime, caller, body)
    except (Forbidden, PolicyEngineUnavailable) as refused:
        _audit_refusal(session, runtime, request, caller, body, refused)
        session.commit()  # the refusal stays on record although the request fails
        if isinstance(refused, Forbidden):
            raise
        raise ServiceUnavailable(
            "the policy engine is unavailable; nothing was disclosed", reason=UNAVAILABLE
        ) from None
    payload = view.model_dump_json().encode("utf-8")
    shown = view.subject is not None
    allowed = {item for item in PLAN_CATEGORIES if item not in {w.category for w in view.withheld}}
    consent_ids = {
        consent_id
        for reason in decision.reasons
        if reason.get("category") in allowed
        for consent_id in reason.get("consent_ids", [])
    }
    record(
        session=session, runtime=runtime, request=request, actor_party=caller.party,
        actor_domain=caller.domain, action=Action.DISCLOSE if shown else Action.DENY,
        outcome=Outcome.ALLOW if shown else Outcome.DENY, participant=participant,
        purpose=body.purpose, categories=sorted(allowed) if shown else PLAN_CATEGORIES,
        consent_ids=sorted(consent_ids),
        reason=", ".join(f"{w.category}: {w.code}" for w in view.withheld) or None,
        decision_id=view.decision_id, policy_revision=view.policy_revision,
        payload_digest=hashlib.sha256(payload).hexdigest(),
    )  # fmt: skip
    return Response(content=payload, media_type="application/json")


def _decided_view(
    session: SessionDep, runtime: Runtime, caller: Caller, body: PlanQuery
) -> tuple[PlanDisclosure, ParticipantRef | None, Decision]:
    """The plan as far as the decision allows: goals, actions, and (for the director) who is in."""
    role = acting_role(caller, body.role)
    now = runtime.clock()
    participant = resolve_subject(session, runtime.identity_keys, caller, body.subject)
    consents = (
        consents_in_force(session=session, participant_id=participant.id, at=now)
        if participant is not None
        else []
    )
    director = (
        service.current_director(session=session, participant_id=participant.id, consents=consents)
        if participant is not None
        else None
    )
    decision = runtime.policy_engine.decide(
        decision_input(
            party=caller.party, domain=caller.domain, role=role, purpose=body.purpose,
            categories=PLAN_CATEGORIES, consents=consents,
            director=None if director is None else director.party, now=now,
        )
    )  # fmt: skip
    allowed = {c for c in decision.categories if FIELD_OF[c] in decision.fields.get(c, [])}
    shown = participant is not None and bool(allowed)
    items = (
        service.current_items(session=session, participant_id=participant.id)
        if participant is not None and shown
        else []
    )
    overview = shown and _code(decision, ACTIONS) == DIRECTOR_OVERVIEW
    view = PlanDisclosure(
        decision_id=str(uuid.uuid4()),
        purpose=body.purpose,
        decided_at=now,
        policy_revision=decision.policy_revision,
        subject=(
            pseudonym(runtime.identity_keys, caller.domain, participant.id)
            if participant is not None and shown
            else None
        ),
        director=director_view(director) if shown else None,
        goals=_items(items, ItemKind.GOAL) if GOALS in allowed else None,
        actions=_items(items, ItemKind.ACTION) if ACTIONS in allowed else None,
        involved=involvement_views(session, participant.id)
        if participant is not None and overview
        else None,
        withheld=_withheld(decision, allowed),
    )
    return view, participant, decision


def _audit_refusal(
    session: SessionDep,
    runtime: Runtime,
    request: Request,
    caller: Caller,
    body: PlanQuery,
    refused: Exception,
) -> None:
    reason = (
        UNAVAILABLE
        if isinstance(refused, PolicyEngineUnavailable)
        else "scope: purpose not in token"
    )
    record(
        session=session, runtime=runtime, request=request, actor_party=caller.party,
        actor_domain=caller.domain, action=Action.DENY, outcome=Outcome.DENY,
        participant=resolve_subject(session, runtime.identity_keys, caller, body.subject),
        purpose=body.purpose, categories=PLAN_CATEGORIES, reason=reason,
        policy_revision=runtime.policy_engine.revision,
    )  # fmt: skip


def _items(items: list[PlanItem], kind: ItemKind) -> list[ItemView]:
    return [service.item_view(item) for item in items if item.kind == kind]


def _reason(decision: Decision, category: str) -> dict[str, object]:
    for reason in decision.reasons:
        if reason.get("category") == category:
            return reason
    return {}


def _code(decision: Decision, category: str) -> str | None:
    code = _reason(decision, category).get("code")
    return None if code is None else str(code)


def _withheld(decision: Decision, allowed: set[str]) -> list[Withheld]:
    """Every plan category not disclosed, with the policy's reason (never any content)."""
    return [
        Withheld(
            category=category,
            code=str(_reason(decision, category).get("code", "request.refused")),
            reason=str(_reason(decision, category).get("reason", "")),
        )
        for category in PLAN_CATEGORIES
        if category not in allowed
    ]

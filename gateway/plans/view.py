"""The plan as a partner may read it (``POST /v1/plans/query``): a disclosure like any other.

The plan is asked for as the categories ``plan.goals`` and ``plan.actions``; only what the
decision allows is shown. The director also sees who is involved, when the policy grants it
the ``director.overview``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.auth.access_tokens import Caller
from gateway.disclosures.flow import Ask, Decided, Frame, Shown, named_subject
from gateway.disclosures.schemas import Withheld
from gateway.identity.vault import pseudonym
from gateway.plans.flow import director_view, involvement_views, items_of_kind
from gateway.plans.schemas import PlanDisclosure
from gateway.policy.engine import Decision
from gateway.runtime import Runtime
from plan import service
from plan.schemas import ItemKind

GOALS, ACTIONS = "plan.goals", "plan.actions"
PLAN_CATEGORIES = (GOALS, ACTIONS)
FIELD_OF = {GOALS: "goals", ACTIONS: "actions"}
DIRECTOR_OVERVIEW = "director.overview"
REFUSED = "request.refused"


class PlanReader:
    """A reader of the shared plan: goals and actions as far as the decision allows."""

    def frame(self, session: Session, runtime: Runtime, caller: Caller, ask: Ask) -> Frame:
        return named_subject(runtime, caller, ask)

    def show(self, decided: Decided) -> Shown:
        decision, participant = decided.decision, decided.case.participant
        allowed = {c for c in decision.categories if FIELD_OF[c] in decision.fields.get(c, [])}
        shown = participant is not None and bool(allowed)
        items = (
            service.current_items(session=decided.session, participant_id=participant.id)
            if participant is not None and shown
            else []
        )
        overview = _code(decision, ACTIONS) == DIRECTOR_OVERVIEW
        view = PlanDisclosure(
            decision_id=decided.decision_id,
            purpose=decided.ask.purpose,
            decided_at=decided.decided_at,
            policy_revision=decision.policy_revision,
            subject=(
                pseudonym(decided.runtime.identity_keys, decided.caller.domain, participant.id)
                if participant is not None and shown
                else None
            ),
            director=director_view(decided.case.director) if shown else None,
            goals=items_of_kind(items, ItemKind.GOAL) if GOALS in allowed else None,
            actions=items_of_kind(items, ItemKind.ACTION) if ACTIONS in allowed else None,
            involved=(
                involvement_views(decided.session, participant.id)
                if participant is not None and shown and overview
                else None
            ),
            withheld=_withheld(decision, allowed),
        )
        return Shown(
            body=view.model_dump_json().encode("utf-8"),
            media_type="application/json",
            disclosed=tuple(sorted(allowed)) if shown else (),
            withheld=tuple(view.withheld),
        )


def _code(decision: Decision, category: str) -> str | None:
    reason = decision.reason_for(category)
    return None if reason is None else reason.code


def _withheld(decision: Decision, allowed: set[str]) -> list[Withheld]:
    """Every plan category not disclosed, with the policy's reason (never any content)."""
    withheld = []
    for category in PLAN_CATEGORIES:
        if category in allowed:
            continue
        reason = decision.reason_for(category)
        withheld.append(
            Withheld(
                category=category,
                code=REFUSED if reason is None else reason.code,
                reason="" if reason is None else reason.reason,
            )
        )
    return withheld

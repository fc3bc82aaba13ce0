"""A case as a party of a conference may read it: a reader of the one disclosure flow.

The frame names the case's participant and gives the policy the conference (chair, invited,
window) and the participant's yeses to conferences; the policy decides who is invited, whether
now lies in the window (so the view closes by itself when it ends) and what the consent for this
conference covers. The view then shows the shared plan, the contributed categories and the other
parties' involvement as far as the decision allows; with nothing allowed the participant is
anonymous here: no pseudonym, no data. A read refused as a whole (not invited, outside the
window) or asking by name for what the party may never receive (care data for an employer) is
answered with a 403 problem, and like every read it is on record.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from conference import answers as answer_rules
from conference import service
from conference.errors import ConferenceNotFound
from conference.models import Case
from gateway.auth.access_tokens import Caller
from gateway.conferences.flow import Taking, policy_conference, taking
from gateway.conferences.schemas import CaseConferenceView, CaseHeading
from gateway.disclosures.flow import Ask, Decided, Frame, Shown
from gateway.disclosures.view import contributed, withheld
from gateway.errors import Forbidden, NotFound
from gateway.identity.subjects import known_participant
from gateway.identity.vault import pseudonym
from gateway.plans.flow import involvement_views, items_of_kind
from gateway.plans.view import ACTIONS, GOALS
from gateway.policy.engine import Decision
from gateway.runtime import Runtime
from plan import service as plan_service
from plan.schemas import ItemKind

INVOLVED = "plan.involved"
PLAN = (GOALS, ACTIONS, INVOLVED)
# Decided before any consent is looked at: what no consent can ever open.
NEVER = ("category.care_data_barred", "category.medical_secrecy", "category.beyond_reach")


@dataclass(frozen=True)
class _Framed:
    found: Taking
    case: Case


@dataclass(frozen=True)
class ConferenceReader:
    """One case of one conference; ``named`` when the caller named the categories it asks."""

    conference_id: str
    case_id: str
    named: bool

    def frame(self, session: Session, runtime: Runtime, caller: Caller, ask: Ask) -> Frame:
        """The case's participant, the conference and the participant's yeses; 404 off agenda."""
        try:
            found = taking(session, self.conference_id)
            case = service.find_case(session, found.conference, self.case_id)
        except ConferenceNotFound as error:
            raise NotFound(str(error)) from None  # a gateway error: nothing decided, none recorded
        grants = answer_rules.standing_grants(session, case.participant_id)
        return Frame(
            subject=known_participant(case.participant_id),
            context={"conference": policy_conference(found)},
            subject_context={
                "conference_consents": [
                    {
                        "id": grant.id,
                        "conference": grant.conference,
                        "parties": list(grant.parties),
                        "categories": list(grant.categories),
                    }
                    for grant in grants
                ]
            },
            details=_Framed(found, case),
        )

    def show(self, decided: Decided) -> Shown:
        framed = decided.frame.details
        assert isinstance(framed, _Framed)
        note = f"conference {framed.found.conference.id}, case {framed.case.number}"
        refusal = _refusal(decided.decision, named=self.named)
        if refusal is not None:
            return Shown(b"", "application/json", (), (), refusal=refusal, note=note)
        view, disclosed = _view(decided, framed)
        return Shown(
            body=view.model_dump_json().encode("utf-8"),
            media_type="application/json",
            disclosed=disclosed,
            withheld=tuple(view.withheld),
            note=note,
        )


def _refusal(decision: Decision, *, named: bool) -> Forbidden | None:
    """A problem for a read refused as a whole, or for asking by name what may never be had."""
    whole = [reason for reason in decision.reasons if reason.category is None]
    never = [reason for reason in decision.reasons if named and reason.code in NEVER]
    refused = whole or never
    if not refused:
        return None
    return Forbidden(
        "; ".join(
            reason.reason if reason.category is None else f"{reason.category}: {reason.reason}"
            for reason in refused
        ),
        error="access_denied",
        reason=refused[0].code,
        reasons=[
            {"category": reason.category, "code": reason.code, "reason": reason.reason}
            for reason in refused
        ],
    )


def _view(decided: Decided, framed: _Framed) -> tuple[CaseConferenceView, tuple[str, ...]]:
    decision, participant = decided.decision, decided.case.participant
    allowed = set(decision.categories) if participant is not None else set()
    data = [
        item
        for item in contributed(decided)
        if item.category in allowed and item.category not in PLAN
    ]
    items = (
        plan_service.current_items(session=decided.session, participant_id=participant.id)
        if participant is not None and allowed & {GOALS, ACTIONS}
        else []
    )
    disclosed = {item.category for item in data} | (allowed & set(PLAN))
    conference = framed.found.conference
    view = CaseConferenceView(
        decision_id=decided.decision_id,
        purpose=decided.ask.purpose,
        decided_at=decided.decided_at,
        policy_revision=decision.policy_revision,
        conference=CaseHeading(
            conference_id=conference.id,
            title=conference.title,
            starts_at=conference.starts_at,
            ends_at=conference.ends_at,
            case_id=framed.case.id,
            number=framed.case.number,
        ),
        anonymous=not disclosed,
        subject=(
            pseudonym(decided.runtime.identity_keys, decided.caller.domain, participant.id)
            if participant is not None and disclosed
            else None
        ),
        goals=items_of_kind(items, ItemKind.GOAL) if GOALS in allowed else None,
        actions=items_of_kind(items, ItemKind.ACTION) if ACTIONS in allowed else None,
        involved=(
            involvement_views(decided.session, participant.id)
            if participant is not None and INVOLVED in allowed
            else None
        ),
        disclosed=data,
        withheld=withheld(decision, disclosed),
    )
    return view, tuple(sorted(disclosed))

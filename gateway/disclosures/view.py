"""The case-data view: the latest contribution per allowed category, cut to the allowed fields,
as JSON or (for a GGZ system) as a FHIR R4 Bundle."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.auth.access_tokens import Caller
from gateway.disclosures.flow import Ask, Decided, Frame, Shown, named_subject
from gateway.disclosures.render import render
from gateway.disclosures.schemas import DisclosedCategory, DisclosureView, Withheld
from gateway.identity.vault import pseudonym
from gateway.policy.engine import Decision
from gateway.runtime import Runtime
from gateway.storage.service import latest_items

NO_DATA = "data.none"
NO_DATA_REASON = "allowed, but no data is held"


@dataclass(frozen=True)
class CaseData:
    """A reader of contributed case data, rendered for the caller's ``Accept`` header."""

    accept: str

    def frame(self, session: Session, runtime: Runtime, caller: Caller, ask: Ask) -> Frame:
        return named_subject(runtime, caller, ask)

    def show(self, decided: Decided) -> Shown:
        disclosed = contributed(decided)
        participant = decided.case.participant
        view = DisclosureView(
            decision_id=decided.decision_id,
            purpose=decided.ask.purpose,
            decided_at=decided.decided_at,
            policy_revision=decided.decision.policy_revision,
            subject=(
                pseudonym(decided.runtime.identity_keys, decided.caller.domain, participant.id)
                if participant is not None and disclosed
                else None
            ),
            disclosed=disclosed,
            withheld=withheld(decided.decision, {item.category for item in disclosed}),
            obligations=decided.decision.obligations if disclosed else [],
        )
        body, media_type = render(view, self.accept, domain=decided.caller.domain)
        return Shown(
            body=body,
            media_type=media_type,
            disclosed=tuple(sorted({item.category for item in disclosed})),
            withheld=tuple(view.withheld),
        )


def contributed(decided: Decided) -> list[DisclosedCategory]:
    """The latest contribution per allowed category and source, cut to the allowed fields."""
    participant, decision = decided.case.participant, decided.decision
    if participant is None or not decision.categories:
        return []
    items = latest_items(
        session=decided.session,
        keks=decided.runtime.keks,
        participant_id=participant.id,
        categories=decision.categories,
    )
    return [
        DisclosedCategory(
            category=item.category,
            source_party=item.source_party,
            observed_at=item.observed_at,
            fields={
                name: value
                for name, value in item.fields.items()
                if name in decision.fields.get(item.category, [])
            },
        )
        for item in items
    ]


def withheld(decision: Decision, with_data: set[str]) -> list[Withheld]:
    """Every category asked and not disclosed, with the policy's reason (never any content)."""
    found = []
    for reason in decision.reasons:
        if reason.category is None:
            continue
        if reason.allowed:
            if reason.category not in with_data:
                found.append(
                    Withheld(category=reason.category, code=NO_DATA, reason=NO_DATA_REASON)
                )
            continue
        found.append(Withheld(category=reason.category, code=reason.code, reason=reason.reason))
    return sorted(found, key=lambda item: item.category)

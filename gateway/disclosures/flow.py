"""The disclosure flow (DESIGN.md): resolve, consents in force, decide, assemble, audit — in the
caller's transaction. The caller commits and only then responds; if the audit append or the
commit fails, nothing is disclosed.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from gateway.audit_log.trail import record
from gateway.auth.access_tokens import Caller
from gateway.disclosures.case import read_case
from gateway.disclosures.schemas import (
    DisclosedCategory,
    DisclosureRequest,
    DisclosureView,
    Withheld,
)
from gateway.errors import InvalidInput
from gateway.identity.subjects import resolve_subject
from gateway.identity.vault import ParticipantRef, pseudonym
from gateway.policy.engine import Decision
from gateway.policy.input import decision_input
from gateway.runtime import Runtime
from gateway.storage.service import latest_items

NO_DATA = "data.none"


@dataclass(frozen=True)
class Prepared:
    """A decided, assembled disclosure: the view and the participant it concerns."""

    view: DisclosureView
    participant: ParticipantRef | None
    decision: Decision


def acting_role(caller: Caller, requested: str | None) -> str:
    """The role of the request: the one named, which the party must hold, or its only role."""
    if requested is not None:
        if requested not in caller.roles:
            raise InvalidInput(
                f"party {caller.party} does not act as {requested!r}; its roles: "
                f"{', '.join(caller.roles) or 'none'}",
                field="role",
            )
        return requested
    if len(caller.roles) != 1:
        raise InvalidInput(
            f"name the role of this request; party {caller.party} acts as "
            f"{', '.join(caller.roles) or 'no role'}",
            field="role",
        )
    return caller.roles[0]


def prepare(
    *, session: Session, runtime: Runtime, caller: Caller, request: DisclosureRequest, now: datetime
) -> Prepared:
    """Steps 2-5: resolve the participant, read consents in force, decide, assemble."""
    role = acting_role(caller, request.role)
    case = read_case(session, runtime.identity_keys, caller, request.subject, now)
    participant = case.participant
    decision = runtime.policy_engine.decide(
        decision_input(
            party=caller.party, domain=caller.domain, role=role, purpose=request.purpose,
            categories=request.categories, consents=case.grants, director=case.director, now=now,
        )
    )  # fmt: skip
    disclosed = _assemble(session, runtime, participant, decision)
    view = DisclosureView(
        decision_id=str(uuid.uuid4()),
        purpose=request.purpose,
        decided_at=now,
        policy_revision=decision.policy_revision,
        subject=(
            pseudonym(runtime.identity_keys, caller.domain, participant.id)
            if participant is not None and disclosed
            else None
        ),
        disclosed=disclosed,
        withheld=_withheld(decision, {item.category for item in disclosed}),
        obligations=decision.obligations if disclosed else [],
    )
    return Prepared(view=view, participant=participant, decision=decision)


def _assemble(
    session: Session, runtime: Runtime, participant: ParticipantRef | None, decision: Decision
) -> list[DisclosedCategory]:
    """The latest contribution per allowed category and source, cut to the allowed fields."""
    if participant is None or not decision.categories:
        return []
    items = latest_items(
        session=session,
        keks=runtime.keks,
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


def _withheld(decision: Decision, with_data: set[str]) -> list[Withheld]:
    """Every category asked and not disclosed, with the policy's reason (never any content)."""
    withheld = []
    for reason in decision.reasons:
        category = reason.get("category")
        if not isinstance(category, str):
            continue
        if reason.get("allowed"):
            if category not in with_data:
                withheld.append(
                    Withheld(category=category, code=NO_DATA, reason="allowed, but no data is held")
                )
            continue
        withheld.append(
            Withheld(
                category=category, code=str(reason.get("code")), reason=str(reason.get("reason"))
            )
        )
    return sorted(withheld, key=lambda item: item.category)


def audit_disclosure(
    *,
    session: Session,
    runtime: Runtime,
    http_request: Request,
    caller: Caller,
    request: DisclosureRequest,
    prepared: Prepared,
    body: bytes,
) -> None:
    """Step 6: one entry per disclosure or denial, with the digest of the exact bytes sent."""
    view = prepared.view
    disclosed = [item.category for item in view.disclosed]
    consent_ids = {
        consent_id
        for reason in prepared.decision.reasons
        if reason.get("category") in disclosed
        for consent_id in reason.get("consent_ids", [])
    }
    withheld = ", ".join(f"{item.category}: {item.code}" for item in view.withheld)
    record(
        session=session,
        runtime=runtime,
        request=http_request,
        actor_party=caller.party,
        actor_domain=caller.domain,
        action=Action.DISCLOSE if disclosed else Action.DENY,
        outcome=Outcome.ALLOW if disclosed else Outcome.DENY,
        participant=prepared.participant,
        purpose=request.purpose,
        categories=disclosed or request.categories,
        consent_ids=sorted(consent_ids),
        reason=withheld[:1000] or None,
        decision_id=view.decision_id,
        policy_revision=view.policy_revision,
        payload_digest=hashlib.sha256(body).hexdigest(),
    )


def audit_refusal(
    *,
    session: Session,
    runtime: Runtime,
    http_request: Request,
    caller: Caller,
    request: DisclosureRequest,
    reason: str,
    policy_revision: str | None = None,
) -> None:
    """A request refused before a view existed (scope, engine down) is audited as a denial."""
    participant = resolve_subject(session, runtime.identity_keys, caller, request.subject)
    record(
        session=session,
        runtime=runtime,
        request=http_request,
        actor_party=caller.party,
        actor_domain=caller.domain,
        action=Action.DENY,
        outcome=Outcome.DENY,
        participant=participant,
        purpose=request.purpose,
        categories=request.categories,
        reason=reason,
        policy_revision=policy_revision,
    )

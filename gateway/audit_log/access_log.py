"""``/v1/me/access-log``: which organisation saw what about me, when, why — in plain language.

Only the participant's own entries (found by their audit-domain pseudonym); never another
participant's, never content. GDPR Art. 15 (right of access) asks for the recipients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from audit.models import AuditEntry
from audit.query import find_entries
from audit.schemas import AuditQuery
from gateway.audit_log.trail import subject_ref
from gateway.deps import ParticipantDep, RuntimeDep, SessionDep
from gateway.registry.service import find_party

router = APIRouter(prefix="/v1/me", tags=["participant: access log"])

SHOWN_ACTIONS = {
    "disclose": "received",
    "deny": "asked for, and was refused,",
    "consent.grant": "recorded a consent about",
    "consent.amend": "changed a consent about",
    "consent.revoke": "recorded the withdrawal of a consent about",
}


class AccessLogItem(BaseModel):
    seq: int
    at: datetime
    organisation: str
    party: str
    action: str
    outcome: str
    purpose: str | None
    categories: list[str]
    summary: str = Field(description="The entry in one plain sentence")


class AccessLog(BaseModel):
    items: list[AccessLogItem]
    next_after_seq: int | None


@router.get("/access-log", summary="Who saw or asked for what about me, when and why")
def access_log(
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AccessLog:
    reference = subject_ref(runtime, participant)
    entries, next_after = find_entries(
        session=session, query=AuditQuery(subject_ref=reference, after_seq=after_seq, limit=limit)
    )
    return AccessLog(
        items=[_item(session, entry) for entry in entries if entry.action in SHOWN_ACTIONS],
        next_after_seq=next_after,
    )


def _item(session: SessionDep, entry: AuditEntry) -> AccessLogItem:
    party = find_party(session, entry.actor_party)
    organisation = party.display_name if party is not None else _self_or_operator(entry.actor_party)
    categories = list(entry.categories)
    what = ", ".join(categories) or "no data"
    why = f" for {entry.purpose}" if entry.purpose else ""
    summary = f"{organisation} {SHOWN_ACTIONS[entry.action]} {what}{why}"
    if entry.action == "deny" and entry.reason:
        summary += f" ({entry.reason})"
    return AccessLogItem(
        seq=entry.seq,
        at=entry.recorded_at,
        organisation=organisation,
        party=entry.actor_party,
        action=entry.action,
        outcome=entry.outcome,
        purpose=entry.purpose,
        categories=categories,
        summary=summary,
    )


def _self_or_operator(actor: str) -> str:
    return {"participant": "You", "operator": "The Schakel operator"}.get(actor, actor)

"""The participant's access log: which organisation saw what about me, when, why — in plain words.

Only the participant's own entries (found by their audit-domain pseudonym); never another
participant's, never content. GDPR Art. 15 (right of access) asks for the recipients.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit.models import AuditEntry
from audit.schemas import AuditQuery
from audit.service import find_entries
from gateway.audit_log.schemas import AccessLog, AccessLogItem
from gateway.identity.vault import ParticipantRef
from gateway.notices.flow import told_about
from gateway.registry.service import find_party
from gateway.runtime import Runtime

SHOWN_ACTIONS = {
    "disclose": "received",
    "deny": "asked for, and was refused,",
    "consent.grant": "recorded a consent about",
    "consent.amend": "changed a consent about",
    "consent.revoke": "recorded the withdrawal of a consent about",
    "conference.schedule": "put you on a case conference's agenda, asking to share",
    "conference.consent": "recorded your answer for a case conference about",
}


def access_log(
    session: Session,
    runtime: Runtime,
    participant: ParticipantRef,
    *,
    after_seq: int,
    limit: int,
) -> AccessLog:
    """One page of what happened about the participant, oldest first."""
    reference = runtime.trail.subject_ref(participant)
    entries, next_after = find_entries(
        session=session, query=AuditQuery(subject_ref=reference, after_seq=after_seq, limit=limit)
    )
    return AccessLog(
        items=[_item(session, entry) for entry in entries if entry.action in SHOWN_ACTIONS],
        next_after_seq=next_after,
        deletion_notices=told_about(session, runtime, participant),
    )


def _item(session: Session, entry: AuditEntry) -> AccessLogItem:
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

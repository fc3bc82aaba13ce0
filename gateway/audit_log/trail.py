"""The gateway's side of the audit log: who acted, on whom (audit pseudonym), in this transaction."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.append import append_entry
from audit.checkpoint import checkpoint_if_due
from audit.schemas import AuditDraft, Outcome
from gateway.identity.vault import AUDIT_DOMAIN, ParticipantRef, pseudonym
from gateway.runtime import Runtime

PARTICIPANT_ACTOR = "participant"


def subject_ref(runtime: Runtime, participant: ParticipantRef | None) -> str | None:
    """Entries name the participant by the audit domain's pseudonym, never by BSN."""
    if participant is None:
        return None
    return pseudonym(runtime.identity_keys, AUDIT_DOMAIN, participant.id)


def record(
    *,
    session: Session,
    runtime: Runtime,
    request: Request,
    actor_party: str,
    actor_domain: str,
    action: Action,
    outcome: Outcome,
    participant: ParticipantRef | None = None,
    purpose: str | None = None,
    categories: Iterable[str] = (),
    consent_ids: Iterable[str] = (),
    reason: str | None = None,
    decision_id: str | None = None,
    policy_revision: str | None = None,
    payload_digest: str | None = None,
) -> None:
    """Append one entry inside the request's transaction: no entry, no effect."""
    append(
        session=session,
        runtime=runtime,
        draft=AuditDraft(
            trace_id=getattr(request.state, "trace_id", None),
            actor_party=actor_party,
            actor_domain=actor_domain,
            action=action,
            subject_ref=subject_ref(runtime, participant),
            purpose=purpose,
            categories=tuple(categories),
            consent_ids=tuple(consent_ids),
            decision_id=decision_id,
            policy_revision=policy_revision,
            outcome=outcome,
            reason=reason,
            payload_digest=payload_digest,
        ),
    )


def append(*, session: Session, runtime: Runtime, draft: AuditDraft) -> None:
    """Append, then sign a checkpoint if one is due (every N entries or T seconds)."""
    entry = append_entry(session=session, draft=draft, clock=runtime.clock)
    settings = runtime.settings
    checkpoint_if_due(
        session=session,
        signing_key=runtime.audit_keys.signing_key,
        clock=runtime.clock,
        every_entries=settings.audit_checkpoint_every_entries,
        every_seconds=settings.audit_checkpoint_every_seconds,
        newest=entry,
    )

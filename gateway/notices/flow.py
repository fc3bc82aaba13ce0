"""Deletion notices, the gateway's side (GDPR Art. 17 and 19): who received what under a consent
that no longer covers it, told in the transaction of the change that caused it.

What each party received is read from the audit log (the record of every disclosure): the
disclosed categories and, per category, the consents it relied on. A notice is created in the
same transaction as the narrowing, withdrawal or erasure — if either fails, neither happens —
with its audit entry, and goes out like involvement signals do: in the party's feed
(``/v1/deletion-notices``) and as a Standard Webhook (``deletion.requested``; the webhook id is
written once, so it is never delivered as two). Its first delivery and the recipient's answer
are audited too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from audit.schemas import AuditQuery, Outcome
from audit.service import iter_entries
from consent import service as consents
from consent.models import Consent
from gateway.audit_log.trail import OPERATOR_ACTOR, PARTICIPANT_ACTOR, AuditTrail
from gateway.auth.access_tokens import Caller
from gateway.auth.roles import REGIONAL_OFFICER_ROLE
from gateway.core.db import transaction
from gateway.identity.models import Participant
from gateway.identity.vault import ParticipantId, ParticipantRef, pseudonym
from gateway.notices.schemas import NoticeView, OverdueNotice, ToldRecipient
from gateway.registry.service import find_party
from gateway.runtime import Runtime
from notice import service as notices
from notice.models import DeletionNotice
from notice.schemas import (
    Acknowledgement,
    DisclosureRef,
    NoticeDraft,
    Reason,
    Received,
    Status,
)
from plan.outbox import enqueue

DELETION_EVENT = "deletion.requested"
DISCLOSE = "disclose"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # no consent of this gateway expired before it


@dataclass(frozen=True)
class Notifier:
    """What telling recipients needs, in the gateway and the CLI alike: the one append path (its
    clock and identity keys too) and how long a recipient has to answer."""

    trail: AuditTrail
    working_days: int


def notifier_of(runtime: Runtime) -> Notifier:
    return Notifier(runtime.trail, runtime.settings.notice_acknowledge_working_days)


def _received(session: Session, notifier: Notifier, participant: ParticipantRef) -> list[Received]:
    """Every category disclosed about the participant, with the consents each relied on."""
    versions = {
        consent.id: consent
        for consent in session.scalars(
            select(Consent).where(Consent.participant_id == participant.id)
        )
    }
    reference = notifier.trail.subject_ref(participant)
    entries = iter_entries(
        session=session, query=AuditQuery(subject_ref=reference, action=DISCLOSE)
    )
    return [item for entry in entries for item in _per_category(entry, versions)]


def _per_category(entry: AuditEntry, versions: Mapping[str, Consent]) -> Iterable[Received]:
    """An entry names the consents of all its categories together; each category relied on those
    among them that cover it."""
    for category in entry.categories:
        relied = frozenset(
            consent_id
            for consent_id in entry.consent_ids
            if consent_id in versions and category in versions[consent_id].categories
        )
        yield Received(
            party=entry.actor_party, domain=entry.actor_domain, category=category,
            decision_id=entry.decision_id or "", disclosed_at=entry.recorded_at,
            consent_ids=relied,
        )  # fmt: skip


def after_consent_closed(
    session: Session,
    notifier: Notifier,
    trace_id: str | None,
    participant: ParticipantRef,
    *,
    closed: Consent,
    successor_categories: Iterable[str] = (),
    reason: Reason,
    actor: tuple[str, str] = (PARTICIPANT_ACTOR, PARTICIPANT_ACTOR),
) -> list[DeletionNotice]:
    """Tell every recipient of a category the closed consent no longer covers (narrowed to
    ``successor_categories``, or none at all when withdrawn or expired)."""
    withdrawn = set(closed.categories) - set(successor_categories)
    if not withdrawn:
        return []
    lineage = consents.lineage(session=session, participant_id=participant.id, consent_id=closed.id)
    older = [version.id for version in lineage if version.created_at <= closed.created_at]
    in_force = consents.consents_in_force(
        session=session, participant_id=participant.id, at=notifier.trail.clock()
    )
    drafts = notices.to_notify(
        _received(session, notifier, participant),
        categories=withdrawn,
        closed_consents=older,
        in_force=[consent.id for consent in in_force],
    )
    return _send(session, notifier, trace_id, participant, drafts, reason, closed.id, actor)


def after_erasure(
    session: Session, notifier: Notifier, participant: ParticipantRef
) -> list[DeletionNotice]:
    """Every party that received anything about an erased participant is told to delete it."""
    drafts = notices.everything_received(_received(session, notifier, participant))
    actor = (OPERATOR_ACTOR, OPERATOR_ACTOR)
    return _send(session, notifier, None, participant, drafts, Reason.ERASED, None, actor)


def sweep_expired(session: Session, notifier: Notifier) -> list[DeletionNotice]:
    """Consents that ended by their period since the last sweep: their recipients are told."""
    since, until = notices.expiry_window(session=session, now=notifier.trail.clock(), first=EPOCH)
    made: list[DeletionNotice] = []
    for consent in consents.expired_between(session=session, after=since, until=until):
        participant = session.get(Participant, consent.participant_id)
        if participant is None:
            continue
        made += after_consent_closed(
            session, notifier, None, participant, closed=consent, reason=Reason.EXPIRED,
            actor=(OPERATOR_ACTOR, OPERATOR_ACTOR),
        )  # fmt: skip
    notices.swept_through(session=session, until=until)
    return made


def sweep(runtime: Runtime) -> list[DeletionNotice]:
    """One round of the expiry sweep, in a transaction of its own (the background job's)."""
    with transaction(runtime.sessions) as session:
        return sweep_expired(session, notifier_of(runtime))


def _send(
    session: Session,
    notifier: Notifier,
    trace_id: str | None,
    participant: ParticipantRef,
    drafts: list[NoticeDraft],
    reason: Reason,
    consent_id: str | None,
    actor: tuple[str, str],
) -> list[DeletionNotice]:
    trail = notifier.trail
    made = notices.make_notices(
        session=session, participant_id=participant.id, reason=reason, consent_id=consent_id,
        drafts=drafts, due_at=notices.due_after(trail.clock(), notifier.working_days),
        clock=trail.clock,
    )  # fmt: skip
    for notice in made:
        trail.record(
            session, trace_id=trace_id, actor_party=actor[0], actor_domain=actor[1],
            action="notice.send", outcome=Outcome.OK, participant=participant,
            categories=notice.categories, consent_ids=[consent_id] if consent_id else [],
            reason=f"deletion notice {notice.notice_id} to {notice.recipient_party} ({reason})",
        )  # fmt: skip
        view = notice_view(trail, notice)
        enqueue(
            session=session, party=notice.recipient_party, event_type=DELETION_EVENT,
            payload=webhook_payload(view), clock=trail.clock,
        )  # fmt: skip
    return made


def notice_view(trail: AuditTrail, notice: DeletionNotice) -> NoticeView:
    """The notice as its recipient reads it, naming the participant by its own pseudonym."""
    return NoticeView(
        notice_id=notice.notice_id,
        cursor=notice.id,
        subject=pseudonym(trail.identity_keys, notice.recipient_domain, notice.participant_id),
        reason=Reason(notice.reason),
        categories=notice.categories,
        disclosures=[DisclosureRef.model_validate(ref) for ref in notice.disclosures],
        created_at=notice.created_at,
        due_at=notice.due_at,
        status=Status(notice.status),
        ground=notice.ground,
        acknowledged_at=notice.acknowledged_at,
        superseded_by=notice.superseded_by,
    )


def webhook_payload(view: NoticeView) -> dict[str, Any]:
    """The Standard Webhooks payload shape: ``type``, ``timestamp``, ``data``."""
    return {
        "type": DELETION_EVENT,
        "timestamp": view.created_at.isoformat().replace("+00:00", "Z"),
        "data": view.model_dump(mode="json"),
    }


# --- the recipient ----------------------------------------------------------------------------


def feed(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    *,
    after: int,
    limit: int,
) -> list[NoticeView]:
    """The caller's notices after the cursor; the first read of each is its delivery (audited)."""
    found = notices.feed(session=session, party=caller.party, after=after, limit=limit)
    for notice in found:
        _delivered(session, runtime.trail, trace_id, notice.notice_id, "feed")
    return [notice_view(runtime.trail, notice) for notice in found]


def record_webhook_delivery(
    session: Session, trail: AuditTrail, event_type: str, payload: Mapping[str, Any]
) -> None:
    """A delivered webhook of a notice is its delivery, if the feed did not deliver it first."""
    if event_type != DELETION_EVENT:
        return
    data = payload.get("data")
    notice_id = data.get("notice_id") if isinstance(data, Mapping) else None
    if isinstance(notice_id, str):
        _delivered(session, trail, None, notice_id, "webhook")


def _delivered(
    session: Session, trail: AuditTrail, trace_id: str | None, notice_id: str, how: str
) -> None:
    notice = notices.mark_delivered(session=session, notice_id=notice_id, now=trail.clock())
    if notice is None:
        return
    trail.record(
        session, trace_id=trace_id, actor_party=notice.recipient_party,
        actor_domain=notice.recipient_domain, action="notice.deliver", outcome=Outcome.OK,
        participant=ParticipantId(notice.participant_id), categories=notice.categories,
        reason=f"deletion notice {notice.notice_id} delivered by {how}",
    )  # fmt: skip


def acknowledge(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    notice_id: str,
    answer: Acknowledgement,
) -> NoticeView:
    """The recipient deleted the data, or keeps it on a ground its domain may keep it on."""
    notice = notices.acknowledge(
        session=session, notice_id=notice_id, party=caller.party, answer=answer,
        grounds=runtime.catalogue.grounds_for(caller.domain), clock=runtime.clock,
    )  # fmt: skip
    said = answer.outcome.value if answer.ground is None else f"kept: {answer.ground}"
    runtime.trail.record(
        session, trace_id=trace_id, actor_party=caller.party, actor_domain=caller.domain,
        action="notice.acknowledge", outcome=Outcome.OK, participant=ParticipantId(notice.participant_id),
        categories=notice.categories, reason=f"deletion notice {notice_id}: {said}",
    )  # fmt: skip
    return notice_view(runtime.trail, notice)


# --- the participant and the privacy officer --------------------------------------------------


def told_about(
    session: Session, runtime: Runtime, participant: ParticipantRef
) -> list[ToldRecipient]:
    """Which organisations were told to delete what about the participant, and what they said."""
    told = []
    for notice in notices.notices_about(session=session, participant_id=participant.id):
        party = find_party(session, notice.recipient_party)
        ground = runtime.catalogue.retention_grounds.get(notice.ground or "")
        told.append(
            ToldRecipient(
                notice_id=notice.notice_id,
                organisation=party.display_name if party is not None else notice.recipient_party,
                party=notice.recipient_party,
                reason=Reason(notice.reason),
                categories=notice.categories,
                told_at=notice.created_at,
                status=notice.status,
                acknowledged_at=notice.acknowledged_at,
                ground=notice.ground,
                ground_description=ground.description if ground is not None else None,
            )
        )
    return told


def overdue(session: Session, runtime: Runtime, caller: Caller) -> list[OverdueNotice]:
    """Notices not acknowledged in time: a privacy officer sees those to its own organisation, a
    regional privacy officer every one."""
    recipients = None if REGIONAL_OFFICER_ROLE in caller.roles else {caller.party}
    return [
        OverdueNotice(
            notice_id=notice.notice_id,
            recipient_party=notice.recipient_party,
            reason=Reason(notice.reason),
            categories=notice.categories,
            created_at=notice.created_at,
            due_at=notice.due_at,
            delivered_at=notice.delivered_at,
        )
        for notice in notices.overdue(session=session, now=runtime.clock(), recipients=recipients)
    ]

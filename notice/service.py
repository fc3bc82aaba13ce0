"""Deletion notices (GDPR Art. 17(1)(b) and Art. 19): when a consent is narrowed, withdrawn or
expires, or a participant is erased, each recipient of the data is told what to delete.

Who is told follows from what was disclosed (the gateway reads it from the audit log and passes
it in): every party that received a category relying on the closed consent, unless it has
received that category since relying on a consent still in force; on erasure, every party that
received anything. A notice names the categories and the disclosures (decision id and date),
never their content. The recipient answers once: deleted, or kept on a legal ground the
catalogue holds for its domain.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notice.errors import (
    NoticeAlreadyAcknowledged,
    NoticeNotFound,
    NoticeSuperseded,
    UnknownGround,
)
from notice.models import DeletionNotice, ExpiryWatermark
from notice.schemas import Acknowledgement, DisclosureRef, NoticeDraft, Reason, Received, Status

Clock = Callable[[], datetime]
MAX_FEED_PAGE = 500


def to_notify(
    received: Iterable[Received],
    *,
    categories: Collection[str],
    closed_consents: Collection[str],
    in_force: Collection[str],
) -> list[NoticeDraft]:
    """The parties to tell after ``closed_consents`` stopped covering ``categories``.

    A party is told of a category it received relying on a closed consent, unless it received
    the same category as late or later relying (also) on a consent still in force.
    """
    closed, current = frozenset(closed_consents), frozenset(in_force)
    by_party_category: dict[tuple[str, str, str], list[Received]] = defaultdict(list)
    for item in received:
        if item.category in categories:
            by_party_category[(item.party, item.domain, item.category)].append(item)
    kept: list[Received] = []
    for items in by_party_category.values():
        relied = [item for item in items if item.consent_ids & closed]
        if not relied:
            continue
        last = max(item.disclosed_at for item in relied)
        if any(item.disclosed_at >= last and item.consent_ids & current for item in items):
            continue
        kept.extend(relied)
    return _drafts(kept)


def everything_received(received: Iterable[Received]) -> list[NoticeDraft]:
    """On erasure every recipient is told of everything it received."""
    return _drafts(list(received))


def _drafts(items: list[Received]) -> list[NoticeDraft]:
    by_party: dict[tuple[str, str], list[Received]] = defaultdict(list)
    for item in items:
        by_party[(item.party, item.domain)].append(item)
    drafts = []
    for (party, domain), received in sorted(by_party.items()):
        by_decision: dict[tuple[str, datetime], set[str]] = defaultdict(set)
        for item in received:
            by_decision[(item.decision_id, item.disclosed_at)].add(item.category)
        drafts.append(
            NoticeDraft(
                party=party,
                domain=domain,
                categories=tuple(sorted({item.category for item in received})),
                disclosures=tuple(
                    DisclosureRef(decision_id=decision, disclosed_at=at, categories=sorted(names))
                    for (decision, at), names in sorted(by_decision.items(), key=lambda x: x[0][1])
                ),
            )
        )
    return drafts


def make_notices(
    *,
    session: Session,
    participant_id: str,
    reason: Reason,
    consent_id: str | None,
    drafts: Iterable[NoticeDraft],
    due_at: datetime,
    clock: Clock,
) -> list[DeletionNotice]:
    """One notice per draft, in the caller's transaction; a cause already noticed makes none.

    An open notice of the same recipient about the same participant whose categories the new
    one covers is superseded by it: the recipient answers the newest.
    """
    made = []
    for draft in drafts:
        key = f"{reason.value}:{consent_id or participant_id}:{draft.party}"
        if session.scalars(select(DeletionNotice).where(DeletionNotice.dedupe_key == key)).first():
            continue
        notice = DeletionNotice(
            notice_id=str(uuid.uuid4()), dedupe_key=key, recipient_party=draft.party,
            recipient_domain=draft.domain, participant_id=participant_id, reason=reason.value,
            consent_id=consent_id, categories=list(draft.categories),
            disclosures=[ref.model_dump(mode="json") for ref in draft.disclosures],
            created_at=clock(), due_at=due_at, status=Status.OPEN.value,
        )  # fmt: skip
        try:
            with session.begin_nested():
                session.add(notice)
                session.flush()
        except IntegrityError:
            continue  # a concurrent request noticed the same cause
        _supersede_covered(session, notice)
        made.append(notice)
    return made


def _supersede_covered(session: Session, newest: DeletionNotice) -> None:
    earlier = session.scalars(
        select(DeletionNotice).where(
            DeletionNotice.recipient_party == newest.recipient_party,
            DeletionNotice.participant_id == newest.participant_id,
            DeletionNotice.status == Status.OPEN.value,
            DeletionNotice.id != newest.id,
        )
    )
    for notice in earlier:
        if set(notice.categories) <= set(newest.categories):
            notice.status = Status.SUPERSEDED.value
            notice.superseded_by = newest.notice_id
    session.flush()


def feed(*, session: Session, party: str, after: int, limit: int) -> list[DeletionNotice]:
    """The party's notices with a cursor above ``after``, oldest first."""
    return list(
        session.scalars(
            select(DeletionNotice)
            .where(DeletionNotice.recipient_party == party, DeletionNotice.id > after)
            .order_by(DeletionNotice.id)
            .limit(min(limit, MAX_FEED_PAGE))
        )
    )


def addressed_to(*, session: Session, notice_id: str, party: str) -> DeletionNotice:
    """The notice, if it is addressed to ``party``; another party's is 'not found'."""
    notice = session.scalars(
        select(DeletionNotice).where(DeletionNotice.notice_id == notice_id)
    ).first()
    if notice is None or notice.recipient_party != party:
        raise NoticeNotFound(f"no deletion notice {notice_id} addressed to your party")
    return notice


def acknowledge(
    *,
    session: Session,
    notice_id: str,
    party: str,
    answer: Acknowledgement,
    grounds: Collection[str],
    clock: Clock,
) -> DeletionNotice:
    """Record the recipient's answer, once; ``grounds`` are those its domain may keep data on."""
    notice = addressed_to(session=session, notice_id=notice_id, party=party)
    if notice.status == Status.SUPERSEDED.value:
        raise NoticeSuperseded(
            f"deletion notice {notice_id} was superseded by {notice.superseded_by}; "
            "acknowledge that one",
            superseded_by=notice.superseded_by or "",
        )
    if notice.status != Status.OPEN.value:
        raise NoticeAlreadyAcknowledged(
            f"deletion notice {notice_id} was acknowledged already ({notice.status})"
        )
    if answer.ground is not None and answer.ground not in grounds:
        raise UnknownGround(
            f"{answer.ground!r} is not a ground your domain may keep data on",
            valid=sorted(grounds),
        )
    notice.status = answer.outcome.value
    notice.ground = answer.ground
    notice.acknowledged_at = clock()
    session.flush()
    return notice


def mark_delivered(*, session: Session, notice_id: str, now: datetime) -> DeletionNotice | None:
    """The first delivery of a notice (feed or webhook); None when it was delivered before."""
    notice = session.scalars(
        select(DeletionNotice).where(DeletionNotice.notice_id == notice_id)
    ).first()
    if notice is None or notice.delivered_at is not None:
        return None
    notice.delivered_at = now
    session.flush()
    return notice


def notices_about(*, session: Session, participant_id: str) -> list[DeletionNotice]:
    """Every notice about the participant, newest first (their own view)."""
    return list(
        session.scalars(
            select(DeletionNotice)
            .where(DeletionNotice.participant_id == participant_id)
            .order_by(DeletionNotice.id.desc())
        )
    )


def overdue(
    *, session: Session, now: datetime, recipients: Collection[str] | None
) -> list[DeletionNotice]:
    """Open notices past their due date, oldest first; ``recipients`` None means every party."""
    statement = select(DeletionNotice).where(
        DeletionNotice.status == Status.OPEN.value, DeletionNotice.due_at < now
    )
    if recipients is not None:
        statement = statement.where(DeletionNotice.recipient_party.in_(sorted(recipients)))
    return list(session.scalars(statement.order_by(DeletionNotice.due_at, DeletionNotice.id)))


def due_after(start: datetime, working_days: int) -> datetime:
    """``working_days`` Monday-to-Friday days after ``start`` (public holidays not counted out)."""
    due, left = start, working_days
    while left > 0:
        due += timedelta(days=1)
        if due.weekday() < 5:
            left -= 1
    return due


def expiry_window(*, session: Session, now: datetime, first: datetime) -> tuple[datetime, datetime]:
    """The period of consent expiries not swept yet: from the watermark (or ``first``) to now."""
    mark = session.get(ExpiryWatermark, 1)
    return (mark.swept_through if mark is not None else first), now


def swept_through(*, session: Session, until: datetime) -> None:
    """Move the watermark: expiries up to ``until`` have been noticed."""
    mark = session.get(ExpiryWatermark, 1)
    if mark is None:
        session.add(ExpiryWatermark(id=1, swept_through=until))
    else:
        mark.swept_through = max(mark.swept_through, until)
    session.flush()

"""Involvement signals: a reference index (as the Verwijsindex is for youth care).

A party signals *that* it is involved with a participant, for a purpose, with a contact. Once two
parties have signalled and the participant consents to coordination by both, each is told of the
other's involvement and contact — never of any content. Who consents is the gateway's to find
out (consent registry); this module is told which parties may be matched.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plan.errors import SignalNotFound
from plan.models import InvolvementSignal, SignalNotification
from plan.schemas import ENDED, SIGNALLED, Involvement, Notice

Clock = Callable[[], datetime]
MAX_FEED_PAGE = 500


def submit_signal(
    *,
    session: Session,
    participant_id: str,
    party: str,
    domain: str,
    purpose: str,
    contact: str,
    clock: Clock,
) -> tuple[Involvement, bool]:
    """Record the signal; a repeated one (same party, purpose) returns the first, not a new one."""
    existing = _signal(session, participant_id, party, purpose)
    if existing is not None:
        return _involvement(existing), False
    signal = InvolvementSignal(
        id=str(uuid.uuid4()), participant_id=participant_id, party=party, domain=domain,
        purpose=purpose, contact=contact, signalled_at=clock(),
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(signal)
            session.flush()
    except IntegrityError:
        found = _signal(session, participant_id, party, purpose)
        if found is None:
            raise
        return _involvement(found), False
    return _involvement(signal), True


def involvements(*, session: Session, participant_id: str) -> list[Involvement]:
    """The signals about the participant that have not ended, oldest first."""
    rows = session.scalars(
        select(InvolvementSignal)
        .where(
            InvolvementSignal.participant_id == participant_id,
            InvolvementSignal.ended_at.is_(None),
        )
        .order_by(InvolvementSignal.signalled_at, InvolvementSignal.id)
    )
    return [_involvement(row) for row in rows]


def end_signal(
    *, session: Session, signal_id: str, party: str, clock: Clock
) -> tuple[Involvement, list[Notice]]:
    """The party is no longer involved: every party told of its signal is told of the end, once.

    Ending a signal that has ended already changes nothing and tells nobody again.
    """
    signal = session.get(InvolvementSignal, signal_id)
    if signal is None or signal.party != party:
        raise SignalNotFound(f"no involvement signal {signal_id} of your party")
    if signal.ended_at is not None:
        return _involvement(signal), []
    now = clock()
    signal.ended_at = now
    session.flush()
    told = session.scalars(
        select(SignalNotification.recipient_party).where(
            SignalNotification.about_signal_id == signal_id,
            SignalNotification.kind == SIGNALLED,
        )
    ).all()
    about = _involvement(signal)
    notices = [
        notice
        for recipient in sorted(set(told))
        if (notice := _notify(session, recipient, signal.participant_id, about, now, ENDED))
    ]
    return about, notices


def involved_parties(*, session: Session, participant_id: str) -> set[str]:
    """The parties that signalled involvement with the participant."""
    return {i.party for i in involvements(session=session, participant_id=participant_id)}


def notify_coordinated(
    *, session: Session, participant_id: str, coordinating: Collection[str], clock: Clock
) -> list[Notice]:
    """Tell every coordinating party of every other coordinating party's signals, once each.

    ``coordinating`` are the parties the participant consented to coordination by. Returns
    the notices created now; those made earlier are not repeated.
    """
    signals = [
        signal
        for signal in involvements(session=session, participant_id=participant_id)
        if signal.party in coordinating
    ]
    recipients = {signal.party for signal in signals}
    told = _already_told(session, participant_id)
    created: list[Notice] = []
    for recipient in sorted(recipients):
        for about in signals:
            if about.party == recipient or (recipient, about.signal_id) in told:
                continue
            notice = _notify(session, recipient, participant_id, about, clock())
            if notice is not None:
                created.append(notice)
    return created


def feed(*, session: Session, recipient_party: str, after: int, limit: int) -> list[Notice]:
    """The party's notifications (of signals and of their ends) above the cursor, oldest first."""
    rows = session.execute(
        select(SignalNotification, InvolvementSignal)
        .join(InvolvementSignal, SignalNotification.about_signal_id == InvolvementSignal.id)
        .where(SignalNotification.recipient_party == recipient_party)
        .where(SignalNotification.id > after)
        .order_by(SignalNotification.id)
        .limit(min(limit, MAX_FEED_PAGE))
    )
    return [_notice(notification, signal) for notification, signal in rows]


def _notify(
    session: Session,
    recipient: str,
    participant_id: str,
    about: Involvement,
    now: datetime,
    kind: str = SIGNALLED,
) -> Notice | None:
    row = SignalNotification(
        recipient_party=recipient, participant_id=participant_id,
        about_signal_id=about.signal_id, kind=kind, created_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # a concurrent request told them already
    return Notice(
        id=row.id, recipient_party=recipient, participant_id=participant_id, about=about,
        created_at=now, kind=kind,
    )  # fmt: skip


def _already_told(session: Session, participant_id: str) -> set[tuple[str, str]]:
    rows = session.execute(
        select(SignalNotification.recipient_party, SignalNotification.about_signal_id).where(
            SignalNotification.participant_id == participant_id,
            SignalNotification.kind == SIGNALLED,
        )
    )
    return {(recipient, signal_id) for recipient, signal_id in rows}


def _signal(
    session: Session, participant_id: str, party: str, purpose: str
) -> InvolvementSignal | None:
    return session.scalars(
        select(InvolvementSignal).where(
            InvolvementSignal.participant_id == participant_id,
            InvolvementSignal.party == party,
            InvolvementSignal.purpose == purpose,
            InvolvementSignal.ended_at.is_(None),
        )
    ).first()


def _involvement(row: InvolvementSignal) -> Involvement:
    return Involvement(
        signal_id=row.id, party=row.party, domain=row.domain, purpose=row.purpose,
        contact=row.contact, signalled_at=row.signalled_at, ended_at=row.ended_at,
    )  # fmt: skip


def _notice(notification: SignalNotification, signal: InvolvementSignal) -> Notice:
    return Notice(
        id=notification.id, recipient_party=notification.recipient_party,
        participant_id=notification.participant_id, about=_involvement(signal),
        created_at=notification.created_at, kind=notification.kind,
    )  # fmt: skip

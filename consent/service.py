"""Consent rules: grant, amend (narrow), revoke, and what is in force at a moment.

Withdrawal must be as easy as giving consent (GDPR Art. 7(3)): a revocation is one call and is
in force for the very next request, because every decision reads consents in force *now*.
The events are the record and are only ever added; a version's terms never change. The one
thing written to a version later is its ``closed_at``, in the transaction of its closing event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, CursorResult, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from consent.errors import ConsentClosed, ConsentNotFound, InvalidConsent
from consent.models import CLOSING_EVENTS, Consent, ConsentEvent
from consent.schemas import (
    ConsentAmendment,
    ConsentEventView,
    ConsentStatus,
    ConsentTerms,
    ConsentView,
    GivenHow,
    Vocabulary,
)

Clock = Callable[[], datetime]


def grant(
    *,
    session: Session,
    participant_id: str,
    terms: ConsentTerms,
    how: GivenHow,
    grantee_kind: str,
    vocabulary: Vocabulary,
    clock: Clock,
) -> Consent:
    """Record a new consent (version 1) after checking it against the catalogue."""
    now = clock()
    valid_from = terms.valid_from or now
    check_terms(terms.purpose, terms.categories, valid_from, terms.valid_until, vocabulary, now)
    consent = Consent(
        id=str(uuid.uuid4()),
        participant_id=participant_id,
        grantee=terms.grantee,
        grantee_kind=grantee_kind,
        purpose=terms.purpose,
        categories=sorted(set(terms.categories)),
        valid_from=valid_from,
        valid_until=terms.valid_until,
        given_by=how.given_by.value,
        representative_role=how.representative_role.value if how.representative_role else None,
        evidence_ref=how.evidence_ref,
        recorded_by=how.recorded_by,
        version=1,
        supersedes=None,
        created_at=now,
    )
    session.add(consent)
    session.flush()
    _add_event(session, consent, "granted", now, how.recorded_by)
    return consent


def amend(
    *,
    session: Session,
    participant_id: str,
    consent_id: str,
    amendment: ConsentAmendment,
    actor: str,
    vocabulary: Vocabulary,
    clock: Clock,
) -> Consent:
    """Supersede a consent by a new version (narrowed or changed); both stay in the history."""
    now = clock()
    current = _open_consent(session, participant_id, consent_id, now)
    categories = amendment.categories if amendment.categories is not None else current.categories
    valid_until = (
        amendment.valid_until
        if "valid_until" in amendment.model_fields_set
        else current.valid_until
    )
    check_terms(current.purpose, categories, current.valid_from, valid_until, vocabulary, now)
    successor = Consent(
        id=str(uuid.uuid4()),
        participant_id=participant_id,
        grantee=current.grantee,
        grantee_kind=current.grantee_kind,
        purpose=current.purpose,
        categories=sorted(set(categories)),
        valid_from=max(current.valid_from, now),
        valid_until=valid_until,
        given_by=current.given_by,
        representative_role=current.representative_role,
        evidence_ref=current.evidence_ref,
        recorded_by=actor,
        version=current.version + 1,
        supersedes=current.id,
        created_at=now,
    )
    session.add(successor)
    session.flush()
    _close(session, current, "superseded", now, actor, reason=None, related=successor.id)
    _add_event(session, successor, "amended", now, actor, related=current.id)
    return successor


def revoke(
    *,
    session: Session,
    participant_id: str,
    consent_id: str,
    reason: str | None,
    actor: str,
    clock: Clock,
) -> Consent:
    """Withdraw a consent; of two concurrent revocations exactly one succeeds."""
    now = clock()
    current = _open_consent(session, participant_id, consent_id, now)
    _close(session, current, "revoked", now, actor, reason=reason, related=None)
    return current


def in_force_where(
    participant_id: ColumnElement[str], at: ColumnElement[datetime]
) -> tuple[ColumnElement[bool], ...]:
    """A consent row of the participant in force at ``at``: open, started, not expired.

    Conditions, not a statement, so that a reader of more than consents (the disclosure's one
    read of the case) joins consents on exactly the rule this module keeps. Open is state, not
    time: a version is out from the commit that supersedes or revokes it (its ``closed_at``),
    which is what a read at the present moment needs. The participant and ``closed_at IS NULL``
    are the index's two columns, so the versions closed before are never read.
    """
    return (
        Consent.participant_id == participant_id,
        Consent.closed_at.is_(None),
        Consent.valid_from <= at,
        or_(Consent.valid_until.is_(None), Consent.valid_until > at),
    )


IN_FORCE_ORDER = (Consent.created_at, Consent.id)
# Built once, with bound parameters: building a statement costs more than running it.
_IN_FORCE = (
    select(Consent)
    .where(*in_force_where(bindparam("participant_id"), bindparam("at")))
    .order_by(*IN_FORCE_ORDER)
)


class Grant(Protocol):
    """What a consent in force grants: to whom, for what, which categories."""

    @property
    def id(self) -> str: ...

    @property
    def grantee(self) -> str: ...

    @property
    def purpose(self) -> str: ...

    @property
    def categories(self) -> list[str]: ...


def expired_between(*, session: Session, after: datetime, until: datetime) -> list[Consent]:
    """Versions that ended by their period in (``after``, ``until``] while open: an expiry is
    no event, so whoever must act on it (deletion notices) sweeps for it."""
    return list(
        session.scalars(
            select(Consent)
            .where(
                Consent.closed_at.is_(None),
                Consent.valid_until > after,
                Consent.valid_until <= until,
            )
            .order_by(Consent.valid_until, Consent.id)
        )
    )


def consents_in_force(*, session: Session, participant_id: str, at: datetime) -> list[Consent]:
    """Consents in force at ``at``: started, not yet expired (an end at T is out at T), open."""
    return list(session.scalars(_IN_FORCE, {"participant_id": participant_id, "at": at}))


def find_consent(*, session: Session, participant_id: str, consent_id: str) -> Consent:
    """The participant's own consent; another participant's consent is simply not found."""
    consent = session.get(Consent, consent_id)
    if consent is None or consent.participant_id != participant_id:
        raise ConsentNotFound(f"no consent {consent_id}")
    return consent


def list_consents(*, session: Session, participant_id: str, at: datetime) -> list[ConsentView]:
    """Every version of every consent of the participant, with its status at ``at``."""
    consents = session.scalars(
        select(Consent)
        .where(Consent.participant_id == participant_id)
        .order_by(Consent.created_at, Consent.id)
    ).all()
    closings = _closing_events(session, participant_id)
    return [view(consent, closings.get(consent.id), at) for consent in consents]


def lineage(*, session: Session, participant_id: str, consent_id: str) -> list[Consent]:
    """The consent with every version before and after it, oldest first (supersedes links them)."""
    versions = {
        consent.id: consent
        for consent in session.scalars(
            select(Consent).where(Consent.participant_id == participant_id)
        )
    }
    if consent_id not in versions:
        raise ConsentNotFound(f"no consent {consent_id}")
    successor = {c.supersedes: c.id for c in versions.values() if c.supersedes is not None}
    first = consent_id
    while (earlier := versions[first].supersedes) is not None:
        first = earlier
    found: list[Consent] = []
    current: str | None = first
    while current is not None:
        found.append(versions[current])
        current = successor.get(current)
    return found


def status_at(consent: Consent, closing: ConsentEvent | None, at: datetime) -> ConsentStatus:
    if closing is not None and closing.at <= at:
        return ConsentStatus(closing.kind)
    if consent.valid_until is not None and consent.valid_until <= at:
        return ConsentStatus.EXPIRED
    if consent.valid_from > at:
        return ConsentStatus.PENDING
    return ConsentStatus.ACTIVE


def view(consent: Consent, closing: ConsentEvent | None, at: datetime) -> ConsentView:
    return ConsentView.model_validate(
        {
            **{
                column: getattr(consent, column)
                for column in ConsentView.model_fields
                if column != "status"
            },
            "status": status_at(consent, closing, at),
        }
    )


def view_of(*, session: Session, consent: Consent, at: datetime) -> ConsentView:
    return view(consent, _closing_event(session, consent), at)


def history(
    *, session: Session, participant_id: str, at: datetime, consent_ids: Sequence[str] | None = None
) -> list[ConsentEventView]:
    """The events of the participant's consents in order; expiry shows as an ``expired`` event."""
    query = select(ConsentEvent).where(ConsentEvent.participant_id == participant_id)
    if consent_ids is not None:
        query = query.where(ConsentEvent.consent_id.in_(consent_ids))
    events = [
        ConsentEventView.model_validate(event, from_attributes=True)
        for event in session.scalars(query.order_by(ConsentEvent.at, ConsentEvent.id))
    ]
    closings = _closing_events(session, participant_id)
    consents = session.scalars(select(Consent).where(Consent.participant_id == participant_id))
    for consent in consents:
        if consent_ids is not None and consent.id not in consent_ids:
            continue
        closing = closings.get(consent.id)
        ends = consent.valid_until
        if ends is not None and ends <= at and (closing is None or closing.at > ends):
            events.append(
                ConsentEventView(
                    consent_id=consent.id, kind="expired", at=ends, actor="schakel",
                    reason="validity period ended", related_consent_id=None,
                )
            )  # fmt: skip
    return sorted(events, key=lambda event: event.at)


def check_terms(
    purpose: str,
    categories: Sequence[str],
    valid_from: datetime,
    valid_until: datetime | None,
    vocabulary: Vocabulary,
    now: datetime,
) -> None:
    """Refuse an unknown purpose, categories outside it, or a period that is empty or past."""
    if purpose not in vocabulary.purposes:
        valid = sorted(vocabulary.purposes)
        raise InvalidConsent(f"unknown purpose {purpose!r}", field="purpose", valid=valid)
    allowed = vocabulary.purposes[purpose]
    unknown = sorted(set(categories) - allowed)
    if unknown:
        raise InvalidConsent(
            f"categories not part of purpose {purpose!r}: {', '.join(unknown)}",
            field="categories",
            valid=sorted(allowed),
        )
    if valid_until is not None and valid_until <= valid_from:
        raise InvalidConsent("valid_until must be after valid_from", field="valid_until")
    if valid_until is not None and valid_until <= now:
        raise InvalidConsent("the consent period lies in the past", field="valid_until")


def _open_consent(session: Session, participant_id: str, consent_id: str, now: datetime) -> Consent:
    consent = find_consent(session=session, participant_id=participant_id, consent_id=consent_id)
    closing = _closing_event(session, consent)
    if closing is not None:
        raise ConsentClosed(f"consent {consent_id} was already {closing.kind}")
    if consent.valid_until is not None and consent.valid_until <= now:
        # An expired consent is history; amending it must not bring it back into force.
        raise ConsentClosed(f"consent {consent_id} expired; give a new consent instead")
    return consent


def _closing_events(session: Session, participant_id: str) -> dict[str, ConsentEvent]:
    events = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.participant_id == participant_id)
        .where(ConsentEvent.kind.in_(CLOSING_EVENTS))
    )
    return {event.consent_id: event for event in events}


def _closing_event(session: Session, consent: Consent) -> ConsentEvent | None:
    """The one consent's closing event, if any: read by its consent, not the participant's."""
    return session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.consent_id == consent.id)
        .where(ConsentEvent.kind.in_(CLOSING_EVENTS))
    ).one_or_none()


def _close(
    session: Session,
    consent: Consent,
    kind: str,
    now: datetime,
    actor: str,
    *,
    reason: str | None,
    related: str | None,
) -> None:
    """The closing event and the version's ``closed_at``, together or not at all.

    Only an open version is closed: of two concurrent closings, the second finds the row
    closed once the first commits (and the events' unique index stands behind that).
    """
    closing = (
        update(Consent)
        .where(Consent.id == consent.id, Consent.closed_at.is_(None))
        .values(closed_at=now)
        .execution_options(synchronize_session=False)
    )
    try:
        with session.begin_nested():
            if cast(CursorResult[Any], session.execute(closing)).rowcount != 1:
                raise _AlreadyClosed
            _add_event(session, consent, kind, now, actor, reason=reason, related=related)
    except (_AlreadyClosed, IntegrityError):
        raise ConsentClosed(f"consent {consent.id} was closed by a concurrent request") from None
    set_committed_value(consent, "closed_at", now)


class _AlreadyClosed(Exception):
    """The version was closed by another transaction after this one read it open."""


def _add_event(
    session: Session,
    consent: Consent,
    kind: str,
    at: datetime,
    actor: str,
    *,
    reason: str | None = None,
    related: str | None = None,
) -> None:
    session.add(
        ConsentEvent(
            consent_id=consent.id,
            participant_id=consent.participant_id,
            kind=kind,
            at=at,
            actor=actor,
            reason=reason,
            related_consent_id=related,
        )
    )
    session.flush()

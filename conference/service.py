"""Conference rules: scheduling and the agenda (the answer: ``conference.answers``; the outcome:
``conference.outcomes``).

A chair schedules a conference with a window, its parties and the categories it asks consent
for, and puts participants on its agenda, each a numbered case. Whether a party may read a case
during the window is the policy's decision, taken by the gateway; the rules here keep the agenda
consistent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conference.errors import ConferenceConflict, ConferenceNotFound, InvalidConference
from conference.models import Case, Conference, Invitation
from conference.schemas import Member, Terms, Vocabulary

Clock = Callable[[], datetime]
MAX_WINDOW = timedelta(days=14)
MAX_CASES = 25
OVER = "conference.over"


# --- scheduling and the agenda ----------------------------------------------------------------


def schedule(
    *,
    session: Session,
    terms: Terms,
    chair: Member,
    invited: Sequence[Member],
    participant_ids: Sequence[str],
    vocabulary: Vocabulary,
    clock: Clock,
) -> Conference:
    """A new conference with its invitations and its agenda, after checking the terms."""
    now = clock()
    check_terms(terms, vocabulary, now)
    _check_invited(chair, invited)
    if len(set(participant_ids)) != len(participant_ids):
        raise InvalidConference("a participant is named twice", field="participants")
    conference = Conference(
        id=str(uuid.uuid4()), purpose=terms.purpose, title=terms.title, region=terms.region,
        chair_party=chair.party, chair_domain=chair.domain, starts_at=terms.starts_at,
        ends_at=terms.ends_at, categories=sorted(set(terms.categories)), created_at=now,
    )  # fmt: skip
    session.add(conference)
    session.flush()
    for member in invited:
        session.add(
            Invitation(
                conference_id=conference.id, party=member.party, domain=member.domain,
                invited_at=now,
            )
        )  # fmt: skip
    for number, participant_id in enumerate(participant_ids, start=1):
        session.add(
            Case(
                id=str(uuid.uuid4()), conference_id=conference.id, participant_id=participant_id,
                number=number, added_by=chair.party, added_at=now,
            )
        )  # fmt: skip
    session.flush()
    return conference


def check_terms(terms: Terms, vocabulary: Vocabulary, now: datetime) -> None:
    """Refuse an unknown region or category, and a window that is empty, too long or past."""
    if terms.region not in vocabulary.regions:
        raise InvalidConference(
            f"unknown region {terms.region!r}", field="region", valid=sorted(vocabulary.regions)
        )
    for index, category in enumerate(terms.categories):
        if category not in vocabulary.categories:
            raise InvalidConference(
                f"category {category!r} is not part of purpose {terms.purpose!r}",
                field=f"categories/{index}",
                valid=sorted(vocabulary.categories),
            )
    if terms.ends_at <= terms.starts_at:
        raise InvalidConference("the window must end after it starts", field="ends_at")
    if terms.ends_at - terms.starts_at > MAX_WINDOW:
        raise InvalidConference(
            f"a conference's window is at most {MAX_WINDOW.days} days", field="ends_at"
        )
    if terms.ends_at <= now:
        raise InvalidConference("the window lies in the past", field="ends_at")


def _check_invited(chair: Member, invited: Sequence[Member]) -> None:
    seen: set[str] = set()
    for index, member in enumerate(invited):
        if member.party == chair.party:
            raise InvalidConference(
                "the chair takes part without an invitation", field=f"invited/{index}"
            )
        if member.party in seen:
            raise InvalidConference(f"{member.party} is invited twice", field=f"invited/{index}")
        seen.add(member.party)


def invite(*, session: Session, conference: Conference, member: Member, clock: Clock) -> Invitation:
    """One more party, until the window ends."""
    refuse_when_over(conference, clock())
    if member.party in {m.party for m in members(session, conference)}:
        raise ConferenceConflict(
            f"{member.party} already takes part in this conference", reason="conference.invited"
        )
    invitation = Invitation(
        conference_id=conference.id, party=member.party, domain=member.domain, invited_at=clock()
    )
    session.add(invitation)
    session.flush()
    return invitation


def add_case(
    *, session: Session, conference: Conference, participant_id: str, added_by: str, clock: Clock
) -> Case:
    """One more participant on the agenda, until the window ends; the next number is theirs."""
    refuse_when_over(conference, clock())
    on_agenda = cases(session, conference.id)
    if any(case.participant_id == participant_id for case in on_agenda):
        raise ConferenceConflict(
            "this participant is already on the agenda", reason="conference.on_agenda"
        )
    if len(on_agenda) >= MAX_CASES:
        raise ConferenceConflict(
            f"an agenda holds at most {MAX_CASES} participants", reason="conference.agenda_full"
        )
    case = Case(
        id=str(uuid.uuid4()), conference_id=conference.id, participant_id=participant_id,
        number=max((c.number for c in on_agenda), default=0) + 1, added_by=added_by,
        added_at=clock(),
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:
        raise ConferenceConflict(
            "the agenda changed meanwhile; try again", reason="conference.agenda_changed"
        ) from None
    return case


def refuse_when_over(conference: Conference, now: datetime) -> None:
    """Nothing is added to a conference whose window has ended."""
    if now >= conference.ends_at:
        raise ConferenceConflict("the conference's window has ended", reason=OVER)


def find_conference(session: Session, conference_id: str) -> Conference:
    conference = session.get(Conference, conference_id)
    if conference is None:
        raise ConferenceNotFound(f"no conference {conference_id}")
    return conference


def find_case(session: Session, conference: Conference, case_id: str) -> Case:
    """A case of this conference's agenda; a case of another conference is not found here."""
    case = session.get(Case, case_id)
    if case is None or case.conference_id != conference.id:
        raise ConferenceNotFound(f"no case {case_id} on the agenda of conference {conference.id}")
    return case


def case_of_participant(session: Session, conference: Conference, participant_id: str) -> Case:
    case = session.scalars(
        select(Case).where(
            Case.conference_id == conference.id, Case.participant_id == participant_id
        )
    ).first()
    if case is None:
        raise ConferenceNotFound(f"you are not on the agenda of conference {conference.id}")
    return case


def invitations(session: Session, conference_id: str) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.conference_id == conference_id)
            .order_by(Invitation.invited_at, Invitation.party)
        )
    )


def members(session: Session, conference: Conference) -> list[Member]:
    """The chair first, then the invited parties."""
    chair = Member(conference.chair_party, conference.chair_domain)
    return [chair, *(Member(i.party, i.domain) for i in invitations(session, conference.id))]


def cases(session: Session, conference_id: str) -> list[Case]:
    return list(
        session.scalars(
            select(Case).where(Case.conference_id == conference_id).order_by(Case.number)
        )
    )


def conferences_of_party(session: Session, party: str) -> list[Conference]:
    """The conferences a party chairs or is invited to, the newest window first."""
    invited = select(Invitation.conference_id).where(Invitation.party == party)
    return list(
        session.scalars(
            select(Conference)
            .where(or_(Conference.chair_party == party, Conference.id.in_(invited)))
            .order_by(Conference.starts_at.desc(), Conference.id)
        )
    )


def cases_of_participant(session: Session, participant_id: str) -> list[tuple[Case, Conference]]:
    """Every agenda the participant is on, the newest window first."""
    rows = session.execute(
        select(Case, Conference)
        .join(Conference, Conference.id == Case.conference_id)
        .where(Case.participant_id == participant_id)
        .order_by(Conference.starts_at.desc(), Conference.id)
    )
    return [(case, conference) for case, conference in rows.all()]

"""Conference rules: scheduling, the agenda, the participant's answer for one conference, outcomes.

A participant's consent for a case conference is asked for that conference alone, naming its
parties and the categories (GDPR Art. 6(1)(a), 7): an answer belongs to one case on one agenda,
and the newest answer counts, so a "no" takes effect at the next read. Whether a party may read
during the window is the policy's decision, taken by the gateway; the rules here keep the
agenda, the answers and the outcomes consistent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conference.errors import ConferenceConflict, ConferenceNotFound, InvalidConference
from conference.models import Answer as AnswerRow
from conference.models import Case, Conference, Invitation, Outcome
from conference.schemas import (
    Answer,
    ConferenceGrant,
    GivenBy,
    GivenHow,
    Member,
    OutcomeDraft,
    Terms,
    Vocabulary,
)

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
    _refuse_when_over(conference, clock())
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
    _refuse_when_over(conference, clock())
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


def _refuse_when_over(conference: Conference, now: datetime) -> None:
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


# --- the answer: consent for this conference --------------------------------------------------


def answer(
    *,
    session: Session,
    conference: Conference,
    case: Case,
    given: Answer,
    how: GivenHow,
    parties: Sequence[str] | None,
    categories: Sequence[str] | None,
    clock: Clock,
) -> AnswerRow:
    """A yes names parties of this conference and categories it asked (all, unless fewer are
    named); a no names none. A yes after the window would open nothing; a no is always taken."""
    now = clock()
    if given is Answer.YES:
        _refuse_when_over(conference, now)
    _check_how(how)
    named_parties: list[str] = []
    named_categories: list[str] = []
    if given is Answer.YES:
        taking_part = [member.party for member in members(session, conference)]
        named_parties = _subset(parties, taking_part, "parties", "a party of this conference")
        named_categories = _subset(
            categories, conference.categories, "categories", "a category this conference asks"
        )
    latest = latest_answers(session, [case.id]).get(case.id)
    row = AnswerRow(
        id=str(uuid.uuid4()), case_id=case.id, conference_id=conference.id,
        participant_id=case.participant_id, version=1 if latest is None else latest.version + 1,
        answer=given.value, parties=named_parties, categories=named_categories,
        given_by=how.given_by.value, representative_role=(
            how.representative_role.value if how.representative_role else None
        ),
        evidence_ref=how.evidence_ref, recorded_by=how.recorded_by, answered_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise ConferenceConflict(
            "another answer was recorded meanwhile; read it and answer again",
            reason="conference.answer_changed",
        ) from None
    return row


def _check_how(how: GivenHow) -> None:
    """Paper and a legal representative leave evidence; a representative says in which role."""
    if how.given_by is not GivenBy.PARTICIPANT and not how.evidence_ref:
        raise InvalidConference(
            "an answer given on paper or by a representative names its evidence",
            field="evidence_ref",
        )
    if (how.given_by is GivenBy.REPRESENTATIVE) != (how.representative_role is not None):
        raise InvalidConference(
            "a representative_role goes with (and only with) given_by representative",
            field="representative_role",
        )


def _subset(
    named: Sequence[str] | None, allowed: Sequence[str], field: str, what: str
) -> list[str]:
    if named is None:
        return sorted(set(allowed))
    for index, item in enumerate(named):
        if item not in allowed:
            raise InvalidConference(
                f"{item!r} is not {what}", field=f"{field}/{index}", valid=sorted(allowed)
            )
    if not named:
        raise InvalidConference(f"a yes names at least one of {field}", field=field)
    return sorted(set(named))


def latest_answers(session: Session, case_ids: Iterable[str]) -> dict[str, AnswerRow]:
    """The newest answer of each case that has one."""
    wanted = list(case_ids)
    if not wanted:
        return {}
    newest = (
        select(AnswerRow.case_id, func.max(AnswerRow.version).label("version"))
        .where(AnswerRow.case_id.in_(wanted))
        .group_by(AnswerRow.case_id)
        .subquery()
    )
    rows = session.scalars(
        select(AnswerRow).join(
            newest,
            (AnswerRow.case_id == newest.c.case_id) & (AnswerRow.version == newest.c.version),
        )
    )
    return {row.case_id: row for row in rows}


def answer_history(session: Session, case_id: str) -> list[AnswerRow]:
    return list(
        session.scalars(
            select(AnswerRow).where(AnswerRow.case_id == case_id).order_by(AnswerRow.version)
        )
    )


def standing_grants(session: Session, participant_id: str) -> list[ConferenceGrant]:
    """Every conference the participant's newest answer says yes to, as the policy reads it.

    All conferences, not only the one asked about: which one counts is the policy's to decide.
    """
    case_ids = session.scalars(select(Case.id).where(Case.participant_id == participant_id))
    return [
        ConferenceGrant(
            id=row.id,
            conference=row.conference_id,
            parties=tuple(row.parties),
            categories=tuple(row.categories),
        )
        for row in sorted(latest_answers(session, case_ids).values(), key=lambda r: r.id)
        if row.answer == Answer.YES
    ]


# --- the outcome ------------------------------------------------------------------------------


def record_outcome(
    *,
    session: Session,
    conference: Conference,
    case: Case,
    draft: OutcomeDraft,
    plan_items: Sequence[str],
    recorded_by: str,
    vocabulary: Vocabulary,
    clock: Clock,
) -> Outcome:
    """The advice and the coded obstacles of one case, once the conference has begun; recorded
    again, it is a new version and the newest counts (in the register too)."""
    now = clock()
    if now < conference.starts_at:
        raise ConferenceConflict(
            "an outcome is recorded once the conference has begun", reason="conference.not_open"
        )
    check_obstacles(draft, vocabulary)
    latest = latest_outcomes(session, [case.id]).get(case.id)
    outcome = Outcome(
        id=str(uuid.uuid4()), case_id=case.id, conference_id=conference.id,
        version=1 if latest is None else latest.version + 1, advice=draft.advice,
        obstacles=[o.model_dump(exclude_none=True) for o in draft.obstacles],
        plan_items=list(plan_items), recorded_by=recorded_by, recorded_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(outcome)
            session.flush()
    except IntegrityError:
        raise ConferenceConflict(
            "another outcome was recorded meanwhile", reason="conference.outcome_changed"
        ) from None
    return outcome


def check_obstacles(draft: OutcomeDraft, vocabulary: Vocabulary) -> None:
    """Each obstacle coded from the vocabulary, lying with a known party type, named once."""
    seen: set[tuple[str, str]] = set()
    for index, obstacle in enumerate(draft.obstacles):
        if obstacle.code not in vocabulary.obstacles:
            raise InvalidConference(
                f"unknown obstacle code {obstacle.code!r}",
                field=f"obstacles/{index}/code",
                valid=sorted(vocabulary.obstacles),
            )
        if obstacle.domain not in vocabulary.domains:
            raise InvalidConference(
                f"unknown party type {obstacle.domain!r}",
                field=f"obstacles/{index}/domain",
                valid=sorted(vocabulary.domains),
            )
        if (obstacle.code, obstacle.domain) in seen:
            raise InvalidConference(
                f"obstacle {obstacle.code} with {obstacle.domain} is named twice",
                field=f"obstacles/{index}",
            )
        seen.add((obstacle.code, obstacle.domain))


def latest_outcomes(session: Session, case_ids: Iterable[str]) -> dict[str, Outcome]:
    """The newest outcome of each case that has one."""
    wanted = list(case_ids)
    if not wanted:
        return {}
    newest = (
        select(Outcome.case_id, func.max(Outcome.version).label("version"))
        .where(Outcome.case_id.in_(wanted))
        .group_by(Outcome.case_id)
        .subquery()
    )
    rows = session.scalars(
        select(Outcome).join(
            newest, (Outcome.case_id == newest.c.case_id) & (Outcome.version == newest.c.version)
        )
    )
    return {row.case_id: row for row in rows}

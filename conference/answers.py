"""The participant's answer for one conference: consent asked for that conference alone, naming its
parties and the categories (GDPR Art. 6(1)(a), 7).

An answer belongs to one case on one agenda and is only ever added: the newest counts, so a "no"
takes effect at the next read. Which answer counts for a read is the policy's decision
(``standing_grants`` hands it every yes of the participant).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conference.errors import ConferenceConflict, InvalidConference
from conference.models import Answer as AnswerRow
from conference.models import Case, Conference
from conference.schemas import Answer, ConferenceGrant, GivenBy, GivenHow
from conference.service import Clock, members, refuse_when_over


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
        refuse_when_over(conference, now)
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

"""Consent for one conference: the participant answers yes or no in the portal, or a professional
of the conference records an answer given on paper or by a legal representative.

A yes names the conference's parties and the categories its chair asked (GDPR Art. 7: specific
and informed): before answering, the participant sees who comes and what each of them would see,
as the policy decides it for that party. Without a yes the participant is discussed anonymously.
An answer belongs to a case on one agenda: one for a case of another conference is refused and
on record. Every answer, and every refusal, is in the audit log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from conference import answers as answer_rules
from conference import service
from conference.errors import ConferenceConflict, InvalidConference
from conference.models import Case as CaseRow
from conference.models import Conference
from conference.schemas import Answer, GivenBy, GivenHow
from gateway.audit_log.trail import PARTICIPANT_ACTOR
from gateway.auth.access_tokens import Caller
from gateway.conferences.flow import (
    Taking,
    answer_view,
    member_views,
    policy_conference,
    record,
    refuse,
    refused_on_record,
    taking,
)
from gateway.conferences.schemas import AnswerView, MyConference, RecordedAnswer, SeenBy
from gateway.errors import InvalidOnRecord, NotFoundOnRecord
from gateway.identity.vault import ParticipantId, ParticipantRef
from gateway.policy.engine import PolicyEngineUnavailable
from gateway.policy.input import decision_input
from gateway.registry.service import find_party
from gateway.runtime import Runtime

CONSENT = Action.CONFERENCE_CONSENT
PARTICIPANT = Caller(
    party=PARTICIPANT_ACTOR,
    domain=PARTICIPANT_ACTOR,
    roles=(),
    purposes=(),
    token_id="participant",  # noqa: S106 - a label, not a secret
)


# --- the participant ---------------------------------------------------------------------------


def my_conferences(
    session: Session, runtime: Runtime, participant: ParticipantRef
) -> list[MyConference]:
    """Every conference the participant is on the agenda of: who comes, what each would see."""
    now = runtime.clock()
    found = service.cases_of_participant(session, participant.id)
    answers = answer_rules.latest_answers(session, [case.id for case, _ in found])
    shown = []
    for case, conference in found:
        parties = taking(session, conference.id)
        answer = answers.get(case.id)
        shown.append(
            MyConference(
                conference_id=conference.id,
                title=conference.title,
                region=conference.region,
                starts_at=conference.starts_at,
                ends_at=conference.ends_at,
                open=conference.starts_at <= now < conference.ends_at,
                over=now >= conference.ends_at,
                asked=list(conference.categories),
                parties=seen_by(session, runtime, parties),
                answer=answer_view(answer) if answer is not None else None,
            )
        )
    return shown


def answer_as_participant(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    participant: ParticipantRef,
    conference_id: str,
    given: Answer,
) -> AnswerView:
    """The participant's own yes (to all that was asked) or no; 404 off the agenda."""
    found = taking(session, conference_id)
    case = service.case_of_participant(session, found.conference, participant.id)
    how = GivenHow(given_by=GivenBy.PARTICIPANT, recorded_by=PARTICIPANT_ACTOR)
    return _answer(session, runtime, trace_id, PARTICIPANT, found, case, given, how, None, None)


# --- a professional, on paper or for a representative ------------------------------------------


def record_answer(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    conference_id: str,
    recorded: RecordedAnswer,
) -> AnswerView:
    """A party of the conference records an answer given on paper or by a representative."""
    found = taking(session, conference_id)
    if not found.includes(caller.party):
        raise refuse(
            session, runtime, trace_id, caller, CONSENT, code="conference.not_invited",
            detail=f"your party neither chairs nor is invited to conference {conference_id}",
        )  # fmt: skip
    case = _case_on_agenda(session, runtime, trace_id, caller, found.conference, recorded.case_id)
    how = GivenHow(
        given_by=recorded.given_by, recorded_by=caller.party, evidence_ref=recorded.evidence_ref,
        representative_role=recorded.representative_role,
    )  # fmt: skip
    return _answer(
        session, runtime, trace_id, caller, found, case, recorded.answer, how, recorded.parties,
        recorded.categories,
    )  # fmt: skip


def _case_on_agenda(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    conference: Conference,
    case_id: str,
) -> CaseRow:
    """The case, on this conference's agenda; a case of another conference is refused on record."""
    case = session.get(CaseRow, case_id)
    if case is None:
        record(
            session, runtime, trace_id, caller, CONSENT, Outcome.DENY,
            f"conference {conference.id}: no case {case_id}",
        )  # fmt: skip
        raise NotFoundOnRecord(f"no case {case_id} on the agenda of conference {conference.id}")
    if case.conference_id != conference.id:
        detail = (
            f"case {case_id} is on the agenda of another conference: an answer counts for the "
            "one conference it was asked for"
        )
        record(
            session, runtime, trace_id, caller, CONSENT, Outcome.DENY,
            f"conference.other_conference: conference {conference.id}: {detail}",
            participant=ParticipantId(case.participant_id),
        )  # fmt: skip
        raise InvalidOnRecord(
            detail,
            reason="conference.other_conference",
            errors=[{"pointer": "#/case_id", "detail": detail}],
        )
    return case


def _answer(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    found: Taking,
    case: CaseRow,
    given: Answer,
    how: GivenHow,
    parties: list[str] | None,
    categories: list[str] | None,
) -> AnswerView:
    try:
        row = answer_rules.answer(
            session=session, conference=found.conference, case=case, given=given, how=how,
            parties=parties, categories=categories, clock=runtime.clock,
        )  # fmt: skip
    except (ConferenceConflict, InvalidConference) as refused:
        raise refused_on_record(
            session, runtime, trace_id, caller, CONSENT, found.conference, refused,
            participant=ParticipantId(case.participant_id),
        ) from None  # fmt: skip
    named = f" naming {', '.join(row.parties)}" if row.parties else ""
    record(
        session, runtime, trace_id, caller, CONSENT, Outcome.OK,
        f"conference {found.conference.id}: {row.answer} ({row.given_by}){named}",
        participant=ParticipantId(case.participant_id), purpose=found.conference.purpose,
        categories=row.categories or found.conference.categories,  # a no: what it says no to
    )  # fmt: skip
    return answer_view(row)


# --- what each party would see ------------------------------------------------------------------


def seen_by(session: Session, runtime: Runtime, found: Taking) -> list[SeenBy]:
    """For each party, the categories the policy would let it read on a yes, inside the window.

    A what-if asked of the policy itself, so the participant is told what the rules decide (an
    employer never sees care data), not what a page supposes; nobody's data is read. When the
    engine cannot answer, the party is shown with nothing rather than with a guess.
    """
    conference = found.conference
    members = member_views(session, conference, found.members)
    shown = []
    for member in members:
        shown.append(
            SeenBy(
                party=member.party,
                name=member.name,
                chair=member.chair,
                categories=_would_see(session, runtime, conference, found, member.party),
            )
        )
    return shown


def _would_see(
    session: Session, runtime: Runtime, conference: Conference, found: Taking, party_id: str
) -> list[str]:
    party = find_party(session, party_id)
    if party is None or not party.enabled:
        return []
    requesters = runtime.catalogue.requesters(conference.purpose, party.domain)
    role = next((role for role in party.roles if role in requesters), None)
    if role is None:
        return []
    policy_input = decision_input(
        party=party.id, domain=party.domain, role=role, purpose=conference.purpose,
        categories=conference.categories, consents=(), director=None,
        now=_inside(conference), context={"conference": policy_conference(found)},
        subject_context={"conference_consents": [{
            "id": "what-if", "conference": conference.id,
            "parties": [m.party for m in found.members], "categories": conference.categories,
        }]},
    )  # fmt: skip
    try:
        return list(runtime.policy_engine.decide(policy_input).categories)
    except PolicyEngineUnavailable:
        return []


def _inside(conference: Conference) -> datetime:
    return conference.starts_at

"""The conferences area's steps, shared by the API and the pages: a chair schedules a case
conference, invites parties and puts participants on its agenda; its parties read the agenda.

Only a party whose role may chair (the catalogue's ``chair_roles``) schedules one, and only for
participants it is a party to: involved with (it signalled) or their director. A participant it
is not a party to is 'not found', with the plan's body, whether enrolled or not. Every step is
on record, refusals included. What a party may read of a case is a disclosure
(``gateway.conferences.view``); the answers and the outcome have their own modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from audit.schemas import Outcome
from conference import service
from conference.models import Answer as AnswerRow
from conference.models import Conference
from conference.schemas import Member, Terms, Vocabulary
from gateway.auth.access_tokens import Caller, check_scope
from gateway.conferences.schemas import (
    AgendaCase,
    AnswerView,
    ConferenceRequest,
    ConferenceSummary,
    ConferenceView,
    MemberView,
)
from gateway.core.db import read_transaction
from gateway.errors import (
    Forbidden,
    ForbiddenOnRecord,
    InvalidInput,
    NotFound,
    NotFoundOnRecord,
)
from gateway.identity.subjects import SubjectRef, resolve_subject
from gateway.identity.vault import ParticipantId, ParticipantRef, ensure_pseudonyms, pseudonym
from gateway.plans.flow import UNREACHABLE, reach_participant
from gateway.policy.input import rfc3339
from gateway.registry.service import find_party, list_parties
from gateway.runtime import Runtime

SCHEDULE, INVITE, AGENDA = "conference.schedule", "conference.invite", "conference.agenda"
NOT_A_PARTY = "conference.not_a_party"


@dataclass(frozen=True)
class Taking:
    """A conference with the parties taking part (the chair first)."""

    conference: Conference
    members: list[Member]

    def chaired_by(self, party: str) -> bool:
        return self.conference.chair_party == party

    def includes(self, party: str) -> bool:
        return any(member.party == party for member in self.members)


def taking(session: Session, conference_id: str) -> Taking:
    """The conference and its parties; 404 when there is no such conference."""
    conference = service.find_conference(session, conference_id)
    return Taking(conference, service.members(session, conference))


def vocabulary(runtime: Runtime, purpose: str) -> Vocabulary:
    catalogue = runtime.catalogue
    return Vocabulary(
        regions=frozenset(catalogue.regions),
        categories=catalogue.purposes.get(purpose, frozenset()),
        obstacles=frozenset(catalogue.obstacles),
        domains=catalogue.domains,
    )


def record(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    action: str,
    outcome: Outcome,
    reason: str,
    *,
    participant: ParticipantRef | None = None,
    purpose: str | None = None,
    categories: Iterable[str] = (),
) -> None:
    """One entry about a conference step; the participant by the audit pseudonym only."""
    runtime.trail.record(
        session, trace_id=trace_id, actor_party=caller.party, actor_domain=caller.domain,
        action=action, outcome=outcome, participant=participant, purpose=purpose,
        categories=categories, reason=reason,
    )  # fmt: skip


def refuse(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    action: str,
    *,
    code: str,
    detail: str,
    participant: ParticipantRef | None = None,
) -> ForbiddenOnRecord:
    """A 403 whose denial is on record; raise what it returns."""
    record(
        session, runtime, trace_id, caller, action, Outcome.DENY, f"{code}: {detail}",
        participant=participant,
    )  # fmt: skip
    return ForbiddenOnRecord(detail, error="access_denied", reason=code)


def pointer_error(detail: str, pointer: str) -> InvalidInput:
    """A 422 naming the offending field by JSON Pointer, as validation errors do."""
    return InvalidInput(detail, errors=[{"pointer": f"#/{pointer}", "detail": detail}])


# --- scheduling -------------------------------------------------------------------------------


def schedule(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    request: ConferenceRequest,
) -> ConferenceView:
    """A chair schedules a conference; each participant put on its agenda is on record."""
    purpose = request.purpose
    if purpose not in runtime.catalogue.conferences:
        raise pointer_error(f"{purpose!r} is not a purpose of case conferences", "purpose")
    check_chair(session, runtime, trace_id, caller, purpose, request.role)
    terms = Terms(
        purpose=purpose, title=request.title, region=request.region,
        starts_at=request.starts_at, ends_at=request.ends_at, categories=tuple(request.categories),
    )  # fmt: skip
    service.check_terms(terms, vocabulary(runtime, purpose), runtime.clock())
    invited = [
        invitee(session, purpose, party, f"invited/{index}")
        for index, party in enumerate(request.invited)
    ]
    participants = [
        agenda_participant(session, runtime, trace_id, caller, subject, f"participants/{index}")
        for index, subject in enumerate(request.participants)
    ]
    for participant in participants:
        ensure_pseudonyms(
            session=session, keys=runtime.identity_keys, participant_id=participant.id,
            domains=runtime.catalogue.domains,
        )  # fmt: skip
    conference = service.schedule(
        session=session,
        terms=terms,
        chair=Member(caller.party, caller.domain),
        invited=invited,
        participant_ids=[participant.id for participant in participants],
        vocabulary=vocabulary(runtime, purpose),
        clock=runtime.clock,
    )
    for case in service.cases(session, conference.id):
        record(
            session, runtime, trace_id, caller, SCHEDULE, Outcome.OK,
            f"conference {conference.id}: on the agenda as case {case.number}",
            participant=ParticipantId(case.participant_id), purpose=purpose,
            categories=conference.categories,
        )  # fmt: skip
    return conference_view(session, runtime, caller, taking(session, conference.id))


def check_chair(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    purpose: str,
    role: str | None,
) -> None:
    """The caller's token carries the purpose and the party holds a role that may chair."""
    try:
        check_scope(caller, purpose)
    except Forbidden as refused:
        raise refuse(
            session, runtime, trace_id, caller, SCHEDULE, code="conference.chair_scope",
            detail=refused.detail,
        ) from None  # fmt: skip
    if role is not None and role not in caller.roles:
        raise pointer_error(f"party {caller.party} does not act as {role!r}", "role")
    chair_roles = runtime.catalogue.conferences[purpose]
    if not any(held in chair_roles for held in ([role] if role else caller.roles)):
        raise refuse(
            session, runtime, trace_id, caller, SCHEDULE, code="conference.chair_not_allowed",
            detail=f"party {caller.party} holds no role that may chair a case conference "
            f"(those are: {', '.join(sorted(chair_roles))})",
        )  # fmt: skip


def invitee(session: Session, purpose: str, party_id: str, pointer: str) -> Member:
    """An enabled party registered for the conference purpose; anything else is a 422."""
    party = find_party(session, party_id)
    if party is None or not party.enabled:
        raise pointer_error(f"{party_id!r} is not an enabled party", pointer)
    if purpose not in party.purposes:
        raise pointer_error(f"{party_id!r} is not registered for {purpose}", pointer)
    return Member(party.id, party.domain)


def agenda_participant(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    subject: SubjectRef,
    pointer: str,
) -> ParticipantRef:
    """A participant the chair is a party to; else 404 with the plan's body, on record."""
    participant = resolve_subject(session, runtime.identity_keys, caller, subject)
    try:
        if participant is None:
            raise NotFound(UNREACHABLE)
        reach_participant(session, runtime, caller, participant)
    except NotFound:
        record(
            session, runtime, trace_id, caller, SCHEDULE, Outcome.DENY,
            f"{NOT_A_PARTY}: the chair neither signalled involvement with nor directs "
            f"the participant at {pointer}",
            participant=participant,
        )  # fmt: skip
        raise NotFoundOnRecord(
            UNREACHABLE, errors=[{"pointer": f"#/{pointer}", "detail": UNREACHABLE}]
        ) from None
    assert participant is not None
    return participant


# --- the chair's further steps ----------------------------------------------------------------


def as_chair(
    session: Session, runtime: Runtime, trace_id: str | None, caller: Caller, conference_id: str
) -> Taking:
    """The conference, if the caller chairs it; a refusal on record otherwise."""
    found = taking(session, conference_id)
    if not found.chaired_by(caller.party):
        raise refuse(
            session, runtime, trace_id, caller, SCHEDULE, code="conference.not_chair",
            detail=f"only the chair of conference {conference_id} does this",
        )  # fmt: skip
    return found


def invite(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    conference_id: str,
    party_id: str,
) -> ConferenceView:
    found = as_chair(session, runtime, trace_id, caller, conference_id)
    member = invitee(session, found.conference.purpose, party_id, "party")
    service.invite(session=session, conference=found.conference, member=member, clock=runtime.clock)
    record(
        session, runtime, trace_id, caller, INVITE, Outcome.OK,
        f"conference {conference_id}: {member.party} invited",
    )  # fmt: skip
    return conference_view(session, runtime, caller, taking(session, conference_id))


def add_participant(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    conference_id: str,
    subject: SubjectRef,
) -> ConferenceView:
    found = as_chair(session, runtime, trace_id, caller, conference_id)
    participant = agenda_participant(session, runtime, trace_id, caller, subject, "subject")
    ensure_pseudonyms(
        session=session, keys=runtime.identity_keys, participant_id=participant.id,
        domains=runtime.catalogue.domains,
    )  # fmt: skip
    case = service.add_case(
        session=session, conference=found.conference, participant_id=participant.id,
        added_by=caller.party, clock=runtime.clock,
    )  # fmt: skip
    record(
        session, runtime, trace_id, caller, SCHEDULE, Outcome.OK,
        f"conference {conference_id}: on the agenda as case {case.number}",
        participant=participant, purpose=found.conference.purpose,
        categories=found.conference.categories,
    )  # fmt: skip
    return conference_view(session, runtime, caller, taking(session, conference_id))


# --- reading the agenda -----------------------------------------------------------------------


def agenda(
    session: Session, runtime: Runtime, trace_id: str | None, caller: Caller, conference_id: str
) -> ConferenceView:
    """The agenda, for the chair and the invited parties; anyone else is refused on record."""
    found = taking(session, conference_id)
    if not found.includes(caller.party):
        raise refuse(
            session, runtime, trace_id, caller, AGENDA, code="conference.not_invited",
            detail=f"your party neither chairs nor is invited to conference {conference_id}",
        )  # fmt: skip
    view = conference_view(session, runtime, caller, found)
    record(session, runtime, trace_id, caller, AGENDA, Outcome.OK, f"conference {conference_id}")
    return view


def conference_view(
    session: Session, runtime: Runtime, caller: Caller, found: Taking
) -> ConferenceView:
    """What a party of the conference sees of it; the chair also each answer and its pseudonym."""
    conference = found.conference
    cases = service.cases(session, conference.id)
    answers = service.latest_answers(session, [case.id for case in cases])
    outcomes = service.latest_outcomes(session, [case.id for case in cases])
    chair = found.chaired_by(caller.party)
    agenda_cases = []
    for case in cases:
        answer = answers.get(case.id)
        outcome = outcomes.get(case.id)
        agenda_cases.append(
            AgendaCase(
                case_id=case.id,
                number=case.number,
                by_name=named_in(answer, caller.party),
                answer=answer_view(answer) if chair and answer is not None else None,
                subject=(
                    pseudonym(runtime.identity_keys, caller.domain, case.participant_id)
                    if chair
                    else None
                ),
                outcome_version=outcome.version if chair and outcome is not None else None,
            )
        )
    now = runtime.clock()
    return ConferenceView(
        id=conference.id, purpose=conference.purpose, title=conference.title,
        region=conference.region, starts_at=conference.starts_at, ends_at=conference.ends_at,
        open=conference.starts_at <= now < conference.ends_at,
        parties=member_views(session, conference, found.members),
        categories=list(conference.categories), cases=agenda_cases,
    )  # fmt: skip


def asked_categories(runtime: Runtime, conference_id: str) -> tuple[str, ...]:
    """The categories a conference asks consent for: what a read of one of its cases asks by
    default. 404 when there is no such conference."""
    with read_transaction(runtime.sessions) as session:
        return tuple(service.find_conference(session, conference_id).categories)


def conferences_of(session: Session, runtime: Runtime, caller: Caller) -> list[ConferenceSummary]:
    """The conferences the caller chairs or is invited to, the newest first."""
    now = runtime.clock()
    return [
        ConferenceSummary(
            id=c.id,
            title=c.title,
            region=c.region,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            chair=c.chair_party,
            open=c.starts_at <= now < c.ends_at,
        )
        for c in service.conferences_of_party(session, caller.party)
    ]


def member_views(
    session: Session, conference: Conference, members: Sequence[Member]
) -> list[MemberView]:
    names = {party.id: party.display_name for party in list_parties(session)}
    return [
        MemberView(
            party=member.party,
            domain=member.domain,
            name=names.get(member.party, member.party),
            chair=member.party == conference.chair_party,
        )
        for member in members
    ]


def named_in(answer: AnswerRow | None, party: str) -> bool:
    """The newest answer is a yes that names the party."""
    return answer is not None and answer.answer == "yes" and party in answer.parties


def answer_view(answer: AnswerRow) -> AnswerView:
    return AnswerView(
        conference_id=answer.conference_id, case_id=answer.case_id, version=answer.version,
        answer=answer.answer, parties=list(answer.parties), categories=list(answer.categories),
        given_by=answer.given_by, representative_role=answer.representative_role,
        evidence_ref=answer.evidence_ref, recorded_by=answer.recorded_by,
        answered_at=answer.answered_at,
    )  # fmt: skip


def policy_conference(found: Taking) -> dict[str, object]:
    """The conference as the policy input names it (``input.conference``)."""
    conference = found.conference
    return {
        "id": conference.id,
        "chair": conference.chair_party,
        "starts_at": rfc3339(conference.starts_at),
        "ends_at": rfc3339(conference.ends_at),
        "invited": sorted(m.party for m in found.members if m.party != conference.chair_party),
    }

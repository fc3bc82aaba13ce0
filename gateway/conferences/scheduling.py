"""Scheduling a case conference: a chair schedules one, invites parties and puts participants on
its agenda.

Only a party whose role may chair (the catalogue's ``chair_roles``) schedules one, and only for
participants it is a party to: involved with (it signalled) or their director. A participant it
is not a party to is 'not found', with the plan's body, whether enrolled or not; the refusal is
on record, as is each participant put on an agenda.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from conference import service
from conference.errors import ConferenceConflict
from conference.schemas import Member, Terms
from gateway.auth.access_tokens import Caller, check_scope
from gateway.conferences.flow import (
    SCHEDULE,
    as_chair,
    conference_view,
    pointer_error,
    record,
    refuse,
    refused_on_record,
    taking,
    vocabulary,
)
from gateway.conferences.schemas import ConferenceRequest, ConferenceView
from gateway.errors import Forbidden, NotFound, NotFoundOnRecord
from gateway.identity.subjects import SubjectRef, resolve_subject
from gateway.identity.vault import ParticipantId, ParticipantRef, ensure_pseudonyms
from gateway.plans.flow import UNREACHABLE, reach_participant
from gateway.registry.service import find_party
from gateway.runtime import Runtime

INVITE = Action.CONFERENCE_INVITE
NOT_A_PARTY = "conference.not_a_party"


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
    try:
        service.invite(
            session=session, conference=found.conference, member=member, clock=runtime.clock
        )
    except ConferenceConflict as refused:
        raise refused_on_record(
            session, runtime, trace_id, caller, INVITE, found.conference, refused
        ) from None
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
    try:
        case = service.add_case(
            session=session, conference=found.conference, participant_id=participant.id,
            added_by=caller.party, clock=runtime.clock,
        )  # fmt: skip
    except ConferenceConflict as refused:
        raise refused_on_record(
            session, runtime, trace_id, caller, SCHEDULE, found.conference, refused,
            participant=participant,
        ) from None  # fmt: skip
    record(
        session, runtime, trace_id, caller, SCHEDULE, Outcome.OK,
        f"conference {conference_id}: on the agenda as case {case.number}",
        participant=participant, purpose=found.conference.purpose,
        categories=found.conference.categories,
    )  # fmt: skip
    return conference_view(session, runtime, caller, taking(session, conference_id))

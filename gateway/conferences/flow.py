"""The conferences area's steps, shared by the API and the pages: what every step needs (the
conference and its parties, the catalogue's vocabulary, the audit entry, a refusal on record)
and reading the agenda.

Scheduling is in ``gateway.conferences.scheduling``, the answers in ``…answers``, the outcome in
``…outcome``, the register in ``…register``; what a party may read of a case is a disclosure
(``gateway.conferences.view``). Every step is on record, refusals included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from conference import answers as answer_rules
from conference import outcomes as outcome_rules
from conference import service
from conference.errors import ConferenceConflict, InvalidConference
from conference.models import Answer as AnswerRow
from conference.models import Conference
from conference.schemas import Member, Vocabulary
from gateway.auth.access_tokens import Caller
from gateway.conferences.schemas import (
    AgendaCase,
    AnswerView,
    ConferenceSummary,
    ConferenceView,
    MemberView,
)
from gateway.core.db import read_transaction
from gateway.errors import (
    ConferenceConflictOnRecord,
    ForbiddenOnRecord,
    GatewayError,
    InvalidInput,
    InvalidOnRecord,
)
from gateway.identity.vault import ParticipantRef, pseudonym
from gateway.policy.input import rfc3339
from gateway.registry.service import list_parties
from gateway.runtime import Runtime

SCHEDULE, AGENDA = Action.CONFERENCE_SCHEDULE, Action.CONFERENCE_AGENDA


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
    action: Action,
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
    action: Action,
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


def refused_on_record(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    action: Action,
    conference: Conference,
    error: ConferenceConflict | InvalidConference,
    *,
    participant: ParticipantRef | None = None,
) -> GatewayError:
    """The domain's refusal with its denial on record; raise what it returns. The answer is
    the problem ``gateway.problems`` gives for it, but the entry stays when it is sent."""
    detail = str(error)
    answer: GatewayError
    if isinstance(error, ConferenceConflict):
        code, where = error.reason, ""
        answer = ConferenceConflictOnRecord(detail, reason=error.reason)
    else:
        code, where = "conference.invalid_input", f"#/{error.field}: "
        extensions: dict[str, object] = {} if error.valid is None else {"valid_values": error.valid}
        answer = InvalidOnRecord(
            detail, errors=[{"pointer": f"#/{error.field}", "detail": detail}], **extensions
        )
    record(
        session, runtime, trace_id, caller, action, Outcome.DENY,
        f"{code}: conference {conference.id}: {where}{detail}", participant=participant,
        purpose=conference.purpose,
    )  # fmt: skip
    return answer


def pointer_error(detail: str, pointer: str) -> InvalidInput:
    """A 422 naming the offending field by JSON Pointer, as validation errors do."""
    return InvalidInput(detail, errors=[{"pointer": f"#/{pointer}", "detail": detail}])


# --- the chair ----------------------------------------------------------------


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
    answers = answer_rules.latest_answers(session, [case.id for case in cases])
    outcomes = outcome_rules.latest_outcomes(session, [case.id for case in cases])
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

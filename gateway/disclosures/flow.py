"""The one disclosure flow (docs/architecture.md): every reader of case data — ``POST
/v1/disclosures``, the plan query, and any later one — goes through it.

1. *Decide*, in a read transaction of its own on a worker thread, beside other requests: the
   party's standing and the token's scope, the case (participant, consents in force, director),
   the policy decision, the reader's view and the exact bytes to send; the audit entry is drafted.
2. *Record*, on the batch writer, grouped with other requests: the audit entry and the commit.
3. *Answer*, only after that commit: no audit entry, no data.

Refusals go the same way: a purpose outside the token (403), a policy engine that cannot decide
(503), or a decision the reader answers with a problem (a conference read outside its window) is
audited as a denial before the problem is answered. Only the append and the commit are serial,
so one slow decision never holds up the others.

A reader *frames* a request before it is decided: how the participant is found (the partner's
BSN or pseudonym, or a case on a conference's agenda) and what it adds to the policy input (the
conference, the participant's consents for conferences), read in the same transaction.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol

import anyio.to_thread
import structlog
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import AuditDraft, Outcome
from gateway.audit_log.trail import AuditTrail
from gateway.auth.access_tokens import Caller, VerifiedToken, caller_of, check_scope
from gateway.core.db import read_transaction
from gateway.disclosures.case import Case, read_named_case
from gateway.disclosures.schemas import Withheld
from gateway.errors import Forbidden, GatewayError, InvalidInput, ServiceUnavailable
from gateway.identity.subjects import SubjectQuery, SubjectRef, resolve_query, subject_query
from gateway.identity.vault import ParticipantRef
from gateway.policy.engine import Decision, PolicyEngineUnavailable
from gateway.policy.input import decision_input
from gateway.runtime import Runtime

log = structlog.get_logger("gateway.disclosures")

ENGINE_UNAVAILABLE = "policy-engine-unavailable"
STORAGE_UNAVAILABLE = "audit-or-storage-unavailable"


@dataclass(frozen=True)
class Ask:
    """A partner's request for case data, as every reader puts it; ``subject`` is None when the
    reader's frame names the participant (a case on a conference's agenda)."""

    subject: SubjectRef | None
    purpose: str
    categories: tuple[str, ...]
    role: str | None
    acting_user: str


@dataclass(frozen=True)
class Frame:
    """What a request is decided on besides the case: how its participant is found, the members
    the reader adds to the policy input (top level, and under ``subject``), and what the reader
    read to get them (``details``, for its view)."""

    subject: SubjectQuery
    context: Mapping[str, Any] = field(default_factory=dict)
    subject_context: Mapping[str, Any] = field(default_factory=dict)
    details: object = None


def named_subject(runtime: Runtime, caller: Caller, ask: Ask) -> Frame:
    """The usual frame: the participant the partner named (BSN or its own pseudonym), nothing added."""
    if ask.subject is None:
        raise InvalidInput("name the participant", field="subject")
    return Frame(subject_query(runtime.identity_keys, caller, ask.subject))


@dataclass(frozen=True)
class Decided:
    """A decided request, for the reader to turn into a view: all it may use, nothing more."""

    session: Session
    runtime: Runtime
    caller: Caller
    ask: Ask
    frame: Frame
    case: Case
    decision: Decision
    decision_id: str
    decided_at: datetime


@dataclass(frozen=True)
class Shown:
    """What a reader made of a decision: the exact bytes to send and what they disclose.

    ``refusal`` is a problem to answer instead (nothing disclosed, the denial on record);
    ``note`` goes first in the audit entry's reason (which conference, which case).
    """

    body: bytes
    media_type: str
    disclosed: tuple[str, ...]
    withheld: tuple[Withheld, ...]
    refusal: GatewayError | None = None
    note: str | None = None


class Reader(Protocol):
    """A kind of view on a case (the contributed data, the plan, a conference's view of a case):
    only what the decision allows."""

    def frame(self, session: Session, runtime: Runtime, caller: Caller, ask: Ask) -> Frame:
        """How the participant is found and what the policy input gets besides the case."""
        ...

    def show(self, decided: Decided) -> Shown:
        """The view's bytes; called in the decide step's read transaction."""
        ...


@dataclass(frozen=True)
class _Prepared:
    """The decide step's result: what to answer, once ``draft`` is on record."""

    draft: AuditDraft
    answer: Shown | GatewayError


def acting_role(caller: Caller, requested: str | None) -> str:
    """The role of the request: the one named, which the party must hold, or its only role."""
    if requested is not None:
        if requested not in caller.roles:
            raise InvalidInput(
                f"party {caller.party} does not act as {requested!r}; its roles: "
                f"{', '.join(caller.roles) or 'none'}",
                field="role",
            )
        return requested
    if len(caller.roles) != 1:
        raise InvalidInput(
            f"name the role of this request; party {caller.party} acts as "
            f"{', '.join(caller.roles) or 'no role'}",
            field="role",
        )
    return caller.roles[0]


async def disclose(
    *, runtime: Runtime, bearer: VerifiedToken, ask: Ask, reader: Reader, trace_id: str | None
) -> Shown:
    """Decide, record in the writer's next commit, then answer.

    Raises a :class:`GatewayError` for bad input and refusals (403 audited, 503 audited when the
    policy engine cannot decide), and 503 when the database fails: nothing is disclosed then.
    """
    if runtime.policy_engine.bounded:
        prepared = await _decided_by_the_writer(runtime, bearer, ask, reader, trace_id)
    else:
        prepared = await _decided_beside_the_writer(runtime, bearer, ask, reader, trace_id)
    runtime.metrics.disclosures.labels(_outcome(prepared.answer)).inc()
    if isinstance(prepared.answer, GatewayError):
        raise prepared.answer
    return prepared.answer


async def _decided_by_the_writer(
    runtime: Runtime, bearer: VerifiedToken, ask: Ask, reader: Reader, trace_id: str | None
) -> _Prepared:
    """Read, decide and record in one unit of the writer's next batch (an engine in the
    process decides in bounded time, so no request waits long behind another's decision)."""
    try:
        done = await runtime.writer.run(
            partial(_prepare_and_record, runtime, bearer, ask, reader, trace_id)
        )
    except Exception as error:  # fail closed: no audit entry, no data
        log.error("disclosure could not be decided or recorded; nothing disclosed", exc_info=error)
        runtime.metrics.disclosures.labels("failed").inc()
        raise _storage_unavailable() from None
    if isinstance(done, GatewayError):
        raise done  # bad input or a refused token: nothing was decided, nothing recorded
    return done


async def _decided_beside_the_writer(
    runtime: Runtime, bearer: VerifiedToken, ask: Ask, reader: Reader, trace_id: str | None
) -> _Prepared:
    """Read and decide on a worker thread, then record in the writer's next batch: an engine
    over the network may take up to its time-out, and no other request waits for that."""
    arrived = time.monotonic()  # the engine's time-out runs from here, not from the thread
    try:
        prepared = await anyio.to_thread.run_sync(
            partial(_prepare, runtime, bearer, ask, reader, trace_id, arrived)
        )
    except GatewayError:
        raise  # bad input or a refused token: nothing was decided, nothing to record
    except Exception as error:  # fail closed: the case could not be read
        log.error("disclosure could not be decided; nothing disclosed", exc_info=error)
        runtime.metrics.disclosures.labels("failed").inc()
        raise _storage_unavailable() from None
    try:
        await runtime.writer.run(partial(_record, runtime, prepared.draft))
    except Exception as error:  # fail closed: no audit entry, no data
        log.error("disclosure could not be recorded; nothing disclosed", exc_info=error)
        runtime.metrics.disclosures.labels("failed").inc()
        raise _storage_unavailable() from None
    return prepared


def _outcome(answer: Shown | GatewayError) -> str:
    if isinstance(answer, Shown):
        return Action.DISCLOSE if answer.disclosed else Action.DENY
    return "unavailable" if isinstance(answer, ServiceUnavailable) else "refused"


def _record(runtime: Runtime, draft: AuditDraft, session: Session) -> None:
    runtime.trail.append(session, draft)


def _storage_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the gateway could not record this disclosure; nothing was disclosed",
        reason=STORAGE_UNAVAILABLE,
    )


def _prepare(
    runtime: Runtime,
    bearer: VerifiedToken,
    ask: Ask,
    reader: Reader,
    trace_id: str | None,
    arrived: float,
) -> _Prepared:
    """Step 1 in a read transaction of its own: the answer and the audit entry that goes first."""
    with read_transaction(runtime.sessions) as session:
        return _prepare_in(session, runtime, bearer, ask, reader, trace_id, arrived)


def _prepare_and_record(
    runtime: Runtime,
    bearer: VerifiedToken,
    ask: Ask,
    reader: Reader,
    trace_id: str | None,
    session: Session,
) -> _Prepared | GatewayError:
    """Both steps as one unit of the batch writer, for a policy engine that never waits on
    anything outside the process: no second transaction, no second thread. Bad input is
    returned, not raised, so it does not make the writer run its batch again."""
    try:
        prepared = _prepare_in(session, runtime, bearer, ask, reader, trace_id)
    except GatewayError as error:
        return error
    runtime.trail.append(session, prepared.draft)
    return prepared


def _prepare_in(
    session: Session,
    runtime: Runtime,
    bearer: VerifiedToken,
    ask: Ask,
    reader: Reader,
    trace_id: str | None,
    arrived: float | None = None,
) -> _Prepared:
    """The answer and the audit entry that goes first, read and decided in ``session``
    (``arrived``: when the request came in, for an engine's time-out)."""
    caller = caller_of(session, bearer)
    entry = _Entry(runtime.trail, caller, ask, trace_id)
    frame = reader.frame(session, runtime, caller, ask)
    try:
        check_scope(caller, ask.purpose)
    except Forbidden as refused:
        participant = resolve_query(session, frame.subject)
        return _Prepared(
            entry.draft(participant, reason=f"scope: {refused.detail}"), answer=refused
        )
    role = acting_role(caller, ask.role)
    now = runtime.clock()
    case = read_named_case(session, frame.subject, now)
    engine = runtime.policy_engine
    started = time.perf_counter()
    try:
        decision = engine.decide(
            decision_input(
                party=caller.party, domain=caller.domain, role=role, purpose=ask.purpose,
                categories=ask.categories, consents=case.grants, director=case.director_party,
                now=now, context=frame.context, subject_context=frame.subject_context,
            ),
            arrived=arrived,
        )  # fmt: skip
    except PolicyEngineUnavailable as error:
        log.warning("policy engine unavailable; denied", error=str(error))
        runtime.metrics.policy_errors.labels(engine.name, error.kind).inc()
        draft = entry.draft(
            case.participant,
            reason=ENGINE_UNAVAILABLE,
            policy_revision=runtime.policy_engine.revision,
        )
        return _Prepared(draft, answer=_engine_unavailable())
    runtime.metrics.decisions.labels(engine.name).observe(time.perf_counter() - started)
    decided = Decided(
        session=session, runtime=runtime, caller=caller, ask=ask, frame=frame, case=case,
        decision=decision, decision_id=str(uuid.uuid4()), decided_at=now,
    )  # fmt: skip
    shown = reader.show(decided)
    return _Prepared(_disclosure_draft(decided, shown, entry), answer=shown.refusal or shown)


def _engine_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the policy engine is unavailable; nothing was disclosed", reason=ENGINE_UNAVAILABLE
    )


@dataclass(frozen=True)
class _Entry:
    """The audit entry of this request, whatever its outcome: who asked what, about whom."""

    trail: AuditTrail
    caller: Caller
    ask: Ask
    trace_id: str | None

    def draft(
        self,
        participant: ParticipantRef | None,
        *,
        reason: str | None,
        disclosed: tuple[str, ...] = (),
        consent_ids: Iterable[str] = (),
        decision_id: str | None = None,
        policy_revision: str | None = None,
        payload_digest: str | None = None,
    ) -> AuditDraft:
        """A disclosure when anything is disclosed (naming what), else a denial of what was asked."""
        return AuditDraft(
            trace_id=self.trace_id,
            actor_party=self.caller.party,
            actor_domain=self.caller.domain,
            actor_user=self.ask.acting_user,
            action=Action.DISCLOSE if disclosed else Action.DENY,
            subject_ref=self.trail.subject_ref(participant),
            purpose=self.ask.purpose,
            categories=disclosed or self.ask.categories,
            consent_ids=tuple(consent_ids),
            decision_id=decision_id,
            policy_revision=policy_revision,
            outcome=Outcome.ALLOW if disclosed else Outcome.DENY,
            reason=None if reason is None else reason[:1000],
            payload_digest=payload_digest,
        )


def _disclosure_draft(decided: Decided, shown: Shown, entry: _Entry) -> AuditDraft:
    """One entry per disclosure or denial, with the digest of the exact bytes sent (none when
    the reader answers with a problem instead)."""
    withheld = ", ".join(f"{item.category}: {item.code}" for item in shown.withheld)
    if shown.refusal is not None:
        code = shown.refusal.extensions.get("reason")
        withheld = f"refused: {f'{code}: ' if code else ''}{shown.refusal.detail}"
    reason = "; ".join(part for part in (shown.note, withheld) if part)
    disclosed = () if shown.refusal is not None else shown.disclosed
    return entry.draft(
        decided.case.participant,
        reason=reason or None,
        disclosed=disclosed,
        consent_ids=decided.decision.consents_relied_on(disclosed),
        decision_id=decided.decision_id,
        policy_revision=decided.decision.policy_revision,
        payload_digest=None
        if shown.refusal is not None
        else hashlib.sha256(shown.body).hexdigest(),
    )

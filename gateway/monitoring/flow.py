"""The monitoring area's steps, shared by the API, the steering group's page and the CLI: a
release asked by a region's statistics office, the stored releases, the budget and its ledger.

A release counts one trajectory per participant whom the policy lets the region count; each
table gets OpenDP's discrete Laplace noise (an epsilon share of the release), then small counts
and the counts that would give them back are suppressed; the release spends its epsilon from
the region's budget for the year (refused, on record, when that would exceed it), is signed,
stored and audited in one transaction. What is published afterwards is the stored release.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session

from adapters.vocabulary import TRAJECTORY_METHODS, TRAJECTORY_MILESTONES, TRAJECTORY_OUTCOMES
from audit.actions import Action
from audit.schemas import Outcome
from gateway.auth.access_tokens import Caller, check_scope
from gateway.errors import (
    ConflictOnRecord,
    Forbidden,
    ForbiddenOnRecord,
    InvalidInput,
    PolicyEngineUnavailableOnRecord,
)
from gateway.monitoring.population import Requester, count, counting_input, region_of
from gateway.monitoring.publish import canonical, seal_draw, sign, signed_body
from gateway.monitoring.schemas import (
    MONITORING_PURPOSE,
    STATISTICS_ROLE,
    ReleaseRequest,
)
from gateway.policy.engine import PolicyEngineUnavailable
from gateway.policy.input import rfc3339
from gateway.runtime import Runtime
from monitoring import service
from monitoring.errors import BudgetExceeded
from monitoring.models import Release
from monitoring.noise import MECHANISM, OpenDpNoise, library
from monitoring.release import build
from monitoring.tables import Context, Query, Vocabulary, population

RELEASE = Action.MONITORING_RELEASE
ENGINE_UNAVAILABLE = "policy-engine-unavailable"

log = structlog.get_logger("gateway.monitoring")
MIN_EPSILON = 0.05
LONGEST_PERIOD = timedelta(days=3 * 366)
COUNTS = "one trajectory per participant: the newest that started in the period and matches"


def vocabulary(runtime: Runtime) -> Vocabulary:
    return Vocabulary(
        methods=TRAJECTORY_METHODS,
        outcomes=TRAJECTORY_OUTCOMES,
        milestones=TRAJECTORY_MILESTONES,
        obstacles=tuple(sorted(runtime.catalogue.obstacles)),
    )


def _pointer_error(detail: str, pointer: str, valid: list[str] | None = None) -> InvalidInput:
    extensions: dict[str, Any] = {"valid_values": valid} if valid else {}
    return InvalidInput(
        detail, errors=[{"pointer": f"#/{pointer}", "detail": detail}], **extensions
    )


def query_of(runtime: Runtime, request: ReleaseRequest) -> Query:
    """The request checked against the catalogue; a 422 naming the field otherwise."""
    catalogue = runtime.catalogue
    monitoring = catalogue.monitoring.get(request.region)
    if monitoring is None:
        raise _pointer_error(
            f"region {request.region!r} keeps no monitoring", "region", sorted(catalogue.monitoring)
        )
    if request.until < request.since:
        raise _pointer_error("until lies before since", "until")
    if request.until - request.since > LONGEST_PERIOD:
        raise _pointer_error("a release counts at most three years", "until")
    known = catalogue.municipalities_of(request.region)
    for index, code in enumerate(request.municipalities):
        if code not in known:
            raise _pointer_error(
                f"{code} is not a municipality of {request.region}", f"municipalities/{index}",
                sorted(known),
            )  # fmt: skip
    for index, method in enumerate(request.methods):
        if method not in TRAJECTORY_METHODS:
            raise _pointer_error(
                f"unknown method {method!r}", f"methods/{index}", list(TRAJECTORY_METHODS)
            )
    epsilon = request.epsilon if request.epsilon is not None else monitoring.epsilon_per_release
    if not MIN_EPSILON <= epsilon <= monitoring.epsilon_per_year:
        raise _pointer_error(
            f"epsilon is from {MIN_EPSILON} to the yearly budget, {monitoring.epsilon_per_year}",
            "epsilon",
        )
    return Query(
        region=request.region, since=request.since, until=request.until, area=request.area,
        municipalities=tuple(sorted(set(request.municipalities))),
        methods=tuple(m for m in TRAJECTORY_METHODS if m in request.methods), epsilon=epsilon,
    )  # fmt: skip


def _record(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    outcome: Outcome,
    reason: str,
    digest: str | None = None,
) -> None:
    runtime.trail.record(
        session, trace_id=trace_id, actor_party=caller.party, actor_domain=caller.domain,
        action=RELEASE, outcome=outcome, purpose=MONITORING_PURPOSE, reason=reason,
        policy_revision=runtime.policy_engine.revision, payload_digest=digest,
    )  # fmt: skip


def _refuse(
    session: Session, runtime: Runtime, trace_id: str | None, caller: Caller, code: str, detail: str
) -> ForbiddenOnRecord:
    _record(session, runtime, trace_id, caller, Outcome.DENY, f"{code}: {detail}")
    return ForbiddenOnRecord(detail, error="access_denied", reason=code)


def _engine_unavailable(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    error: PolicyEngineUnavailable,
) -> PolicyEngineUnavailableOnRecord:
    """Fail closed, on record: a deny entry and a 503; nothing counted, stored or spent."""
    log.warning("policy engine unavailable; release refused", error=str(error))
    engine = runtime.policy_engine
    runtime.metrics.policy_errors.labels(engine.name, error.kind).inc()
    _record(session, runtime, trace_id, caller, Outcome.DENY, ENGINE_UNAVAILABLE)
    return PolicyEngineUnavailableOnRecord(
        "the policy engine could not decide; the release is refused and nothing was counted",
        reason=ENGINE_UNAVAILABLE,
    )


def admit(
    session: Session, runtime: Runtime, trace_id: str | None, caller: Caller, region: str
) -> Requester:
    """The caller as a requester of ``region``'s releases: the purpose in its token, the role,
    and the policy's word that the region names it; a refusal on record otherwise."""
    try:
        check_scope(caller, MONITORING_PURPOSE)
    except Forbidden as refused:
        raise _refuse(
            session, runtime, trace_id, caller, "monitoring.scope", refused.detail
        ) from None
    if STATISTICS_ROLE not in caller.roles:
        raise _refuse(
            session, runtime, trace_id, caller, "monitoring.role",
            f"releases are for the {STATISTICS_ROLE} role",
        )  # fmt: skip
    requester = Requester(caller.party, caller.domain)
    try:
        receives = may_receive(runtime, requester, region)
    except PolicyEngineUnavailable as error:
        raise _engine_unavailable(session, runtime, trace_id, caller, error) from None
    if not receives:
        raise _refuse(
            session, runtime, trace_id, caller, "release.not_recipient",
            f"{region} does not name {caller.party} as a recipient of its releases",
        )  # fmt: skip
    return requester


def may_receive(runtime: Runtime, requester: Requester, region: str) -> bool:
    """The policy's request-level word on a release of ``region`` for this requester."""
    decision = runtime.policy_engine.decide(
        counting_input(requester, region, consents=[], objected=False, now=runtime.clock())
    )
    return not any(reason.category is None for reason in decision.reasons)


@dataclass(frozen=True)
class Published:
    """A release just stored: its id and the body that is served."""

    id: str
    body: bytes


def release(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    request: ReleaseRequest,
) -> Published:
    """Count, protect, spend, sign, store and audit one release, in the caller's transaction."""
    query = query_of(runtime, request)
    admit(session, runtime, trace_id, caller, query.region)
    now = runtime.clock()
    monitoring = runtime.catalogue.monitoring[query.region]
    noisy = runtime.settings.monitoring_noise
    budget = service.locked_budget(session, region=query.region, year=now.year)
    spent_before = budget.spent
    try:
        if noisy:
            service.check_budget(budget, total=monitoring.epsilon_per_year, asked=query.epsilon)
    except BudgetExceeded as exceeded:
        raise _over_budget(session, runtime, trace_id, caller, exceeded) from None
    try:
        counting = count(session, runtime, Requester(caller.party, caller.domain), query, now=now)
    except PolicyEngineUnavailable as error:
        raise _engine_unavailable(session, runtime, trace_id, caller, error) from None
    context = Context(query, region_of(runtime, query.region), vocabulary(runtime))
    built = build(
        population(counting.persons, context), context,
        threshold=runtime.settings.register_min_count, noise=OpenDpNoise() if noisy else None,
    )  # fmt: skip
    release_id = str(uuid.uuid4())
    if noisy:
        try:
            service.spend(
                session, budget, release_id=release_id, party=caller.party,
                epsilon=built.epsilon, total=monitoring.epsilon_per_year, at=now,
            )  # fmt: skip
        except BudgetExceeded as exceeded:
            raise _over_budget(session, runtime, trace_id, caller, exceeded) from None
    document = {
        "id": release_id,
        "region": query.region,
        "region_name": runtime.catalogue.regions[query.region],
        "created_at": rfc3339(now),
        "requested_by": caller.party,
        "query": {
            "since": query.since.isoformat(),
            "until": query.until.isoformat(),
            "area": query.area,
            "municipalities": list(query.municipalities),
            "methods": list(query.methods),
        },
        "basis": monitoring.basis,
        "agreement": monitoring.agreement,
        "counts": COUNTS,
        "protection": _protection(
            runtime,
            query,
            built.epsilon if noisy else None,
            budget.year,
            total=monitoring.epsilon_per_year,
            before=spent_before,
            after=budget.spent,
        ),
        "tables": built.tables,
        "medians": built.medians,
        "policy_revision": runtime.policy_engine.revision,
    }
    payload = canonical(document)
    sealed, kek_id = seal_draw(runtime.keks, release_id, built.draw)
    stored = service.store_release(
        session,
        Release(
            id=release_id, region=query.region, year=now.year, requested_by=caller.party,
            created_at=now, epsilon=built.epsilon if noisy else 0.0,
            document=payload.decode("utf-8"), signature=sign(payload, runtime.token_key),
            sealed_draw=sealed, draw_kek_id=kek_id, facts_digest=counting.digest,
        ),
    )  # fmt: skip
    _record(
        session, runtime, trace_id, caller, Outcome.OK,
        f"release {release_id} of {query.region}: epsilon {stored.epsilon:g}, "
        f"{budget.spent:g} of {monitoring.epsilon_per_year:g} spent in {budget.year}",
        hashlib.sha256(payload).hexdigest(),
    )  # fmt: skip
    return Published(release_id, body(runtime, stored))


def _protection(
    runtime: Runtime,
    query: Query,
    epsilon: float | None,
    year: int,
    *,
    total: float,
    before: float,
    after: float,
) -> dict[str, Any]:
    threshold = runtime.settings.register_min_count
    suppression = {
        "threshold": threshold,
        "primary": f"a count from 1 to {threshold - 1} is suppressed",
        "complementary": "so are the counts that would give a suppressed one back from the "
        "published totals, by any combination of them",
        "decided_on": "the noisy counts",
    }
    if epsilon is None:
        return {"suppression": suppression, "differential_privacy": None}
    return {
        "suppression": suppression,
        "differential_privacy": {
            "library": library(),
            "mechanism": MECHANISM,
            "unit": "one participant (all their facts)",
            "epsilon": epsilon,
            "asked": query.epsilon,
            "budget": {"year": year, "total": total, "spent_before": before, "spent_after": after},
        },
    }


def _over_budget(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    exceeded: BudgetExceeded,
) -> ConflictOnRecord:
    detail = str(exceeded)
    _record(
        session, runtime, trace_id, caller, Outcome.DENY, f"monitoring.budget_exhausted: {detail}"
    )
    return ConflictOnRecord(
        detail,
        reason="monitoring.budget_exhausted",
        budget={"region": exceeded.region, "year": exceeded.year, "total": exceeded.total,
                "spent": exceeded.spent, "asked": exceeded.asked},
    )  # fmt: skip


def body(runtime: Runtime, stored: Release) -> bytes:
    jwks_uri = f"{runtime.settings.public_url}/.well-known/jwks.json"
    return signed_body(stored, jwks_uri, str(runtime.token_key.kid))

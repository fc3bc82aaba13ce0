"""What regional monitoring counts about a participant, in which region and on what ground, and
their objection (GDPR Art. 21): an objection, like a withdrawn consent, keeps them out of every
release made after it. Shared by ``/v1/me/monitoring`` and the portal."""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from gateway.audit_log.trail import PARTICIPANT_ACTOR
from gateway.identity.vault import ParticipantRef
from gateway.monitoring.population import Decider, Requester, decide_for, facts_by_participant
from gateway.monitoring.schemas import MONITORING_PURPOSE, MyCounting, RegionCounting
from gateway.policy.engine import PolicyEngineUnavailable
from gateway.runtime import Runtime
from monitoring import service

OBJECTION = Action.MONITORING_OBJECTION
UNKNOWN = "policy-engine-unavailable"
WHAT_IS_COUNTED = [
    "the month your trajectory started, its method and provider, and your municipality",
    "the milestones it reached and how it ended (paid work and its hours, education, volunteer "
    "work, day activity, or without result)",
    "the obstacles named in a case conference about you",
    "only ever as counts of at least ten people, with noise added: never your name, BSN or "
    "any figure about you alone",
]


def my_counting(session: Session, runtime: Runtime, participant: ParticipantRef) -> MyCounting:
    """Each region the participant's trajectories lie in, and whether its releases count them."""
    catalogue = runtime.catalogue
    objected = service.has_objected(session, participant_id=participant.id)
    trajectories = facts_by_participant(session, runtime, [participant.id]).get(participant.id, [])
    regions = sorted(
        {catalogue.municipalities[t.municipality].region for t in trajectories
         if t.municipality in catalogue.municipalities}
    )  # fmt: skip
    decider, now, shown = Decider(runtime), runtime.clock(), []
    for region in regions:
        monitoring = catalogue.monitoring.get(region)
        if monitoring is None or not monitoring.recipients:
            continue
        # The region's own statistics office, as a release would ask.
        requester = Requester(sorted(monitoring.recipients)[0], "region")
        basis = "agreement" if monitoring.basis == "agreement" else "consent"
        region_name, agreement = catalogue.regions[region], monitoring.agreement
        try:
            decision = decide_for(
                session, decider, requester, region, participant.id, objected=objected, now=now
            )
        except PolicyEngineUnavailable:
            # Unknown, not a guess; and what the participant just did (an objection) stays.
            shown.append(
                RegionCounting(
                    region=region, name=region_name, basis=basis, agreement=agreement,
                    counted=None, categories=[], code=UNKNOWN,
                )
            )  # fmt: skip
            continue
        # Why, in one code: the ground that counts them, else the first reason they are not.
        codes = {r.code for r in decision.reasons if r.category and r.allowed == decision.allow}
        shown.append(
            RegionCounting(
                region=region, name=region_name, basis=basis, agreement=agreement,
                counted=decision.allow, categories=list(decision.categories),
                code=min(codes) if codes else "none",
            )
        )  # fmt: skip
    return MyCounting(objected=objected, what_is_counted=WHAT_IS_COUNTED, regions=shown)


def set_objection(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    participant: ParticipantRef,
    *,
    objected: bool,
) -> MyCounting:
    """Object to being counted, or lift the objection; on record when it changes anything."""
    changed = service.record_objection(
        session, participant_id=participant.id, objected=objected, at=runtime.clock()
    )
    if changed:
        runtime.trail.record(
            session, trace_id=trace_id, actor_party=PARTICIPANT_ACTOR,
            actor_domain=PARTICIPANT_ACTOR, action=OBJECTION, outcome=Outcome.OK,
            participant=participant, purpose=MONITORING_PURPOSE,
            reason="objected to being counted" if objected else "lifted the objection",
        )  # fmt: skip
    return my_counting(session, runtime, participant)

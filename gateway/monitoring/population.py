"""Who a release counts, and which of their facts: the trajectories in the region (decrypted
from the sealed contributions) and, per participant, the policy's decision on the region's
legal basis, the consents in force and any objection.

The decision is the one disclosure contract's (``data.schakel.disclosure.decision``) with the
release in the input, so the embedded engine and an OPA server decide it alike, and a policy
engine that cannot decide stops the release (fail closed). Inputs that differ only in consent
ids decide alike, so each distinct input is decided once per release.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from conference.register import obstacles_by_participant
from consent.service import consents_in_force
from gateway.auth.access_tokens import Caller
from gateway.monitoring.schemas import MONITORING_PURPOSE, STATISTICS_ROLE
from gateway.policy.engine import Decision
from gateway.policy.input import decision_input
from gateway.runtime import Runtime
from gateway.storage.service import items_in_categories
from monitoring.facts import CATEGORIES, Fact, Trajectory, trajectories
from monitoring.service import objectors
from monitoring.tables import Person, Query, Region, counted


@dataclass(frozen=True)
class Requester:
    """Who a decision is asked for: a party of the region's statistics office."""

    party: str
    domain: str


def requester_of(caller: Caller) -> Requester:
    return Requester(caller.party, caller.domain)


def counting_input(
    requester: Requester,
    region: str,
    *,
    consents: Sequence[Any],
    objected: bool,
    now: datetime,
) -> dict[str, Any]:
    """The decision input for one participant of a release of ``region``."""
    return decision_input(
        party=requester.party, domain=requester.domain, role=STATISTICS_ROLE,
        purpose=MONITORING_PURPOSE, categories=CATEGORIES, consents=consents, director=None,
        now=now, context={"release": {"region": region}},
        subject_context={"monitoring_objection": objected},
    )  # fmt: skip


class Decider:
    """Decides each distinct input once (consent ids aside) for the length of one release."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._decided: dict[str, Decision] = {}

    def decide(self, policy_input: dict[str, Any]) -> Decision:
        shape = json.loads(json.dumps(policy_input))
        for index, consent in enumerate(shape["subject"]["consents"]):
            consent["id"] = f"c{index}"
        shape["subject"]["consents"].sort(key=lambda c: json.dumps(c, sort_keys=True))
        shape.pop("now", None)
        key = json.dumps(shape, sort_keys=True)
        if key not in self._decided:
            self._decided[key] = self._runtime.policy_engine.decide(policy_input)
        return self._decided[key]


def region_of(runtime: Runtime, region: str) -> Region:
    catalogue = runtime.catalogue
    return Region(
        region, {code: m.subregion for code, m in catalogue.municipalities_of(region).items()}
    )


def facts_by_participant(
    session: Session, runtime: Runtime, participant_ids: Collection[str] | None = None
) -> dict[str, list[Trajectory]]:
    """Each participant's trajectories, from every contribution of the trajectory categories."""
    found = items_in_categories(
        session=session, keks=runtime.keks, categories=CATEGORIES, participant_ids=participant_ids
    )
    return {
        participant_id: trajectories(
            Fact(item.category, item.source_party, item.observed_at, item.fields) for item in items
        )
        for participant_id, items in found.items()
    }


def decide_for(
    session: Session,
    decider: Decider,
    requester: Requester,
    region: str,
    participant_id: str,
    *,
    objected: bool,
    now: datetime,
) -> Decision:
    """The policy's decision on counting one participant in a release of ``region``."""
    consents = [
        consent
        for consent in consents_in_force(session=session, participant_id=participant_id, at=now)
        if consent.purpose == MONITORING_PURPOSE
    ]
    return decider.decide(
        counting_input(requester, region, consents=consents, objected=objected, now=now)
    )


@dataclass(frozen=True)
class Counting:
    """The people a release counts, and a digest of what was counted (kept, never published)."""

    persons: list[Person]
    digest: str


def count(
    session: Session, runtime: Runtime, requester: Requester, query: Query, *, now: datetime
) -> Counting:
    """Everyone with a trajectory the query counts, with the categories the policy allows."""
    region = region_of(runtime, query.region)
    facts = facts_by_participant(session, runtime)
    candidates = {
        participant_id: found
        for participant_id, found in facts.items()
        if counted(Person(found, frozenset()), query, region) is not None
    }
    objected = objectors(session, participant_ids=list(candidates))
    obstacles = obstacles_by_participant(
        session=session, since=_start_of(query.since), until=_start_of(query.until + timedelta(days=1)),
        region=query.region,
    )  # fmt: skip
    decider = Decider(runtime)
    persons = []
    for participant_id in sorted(candidates):
        decision = decide_for(
            session, decider, requester, query.region, participant_id,
            objected=participant_id in objected, now=now,
        )  # fmt: skip
        persons.append(
            Person(
                candidates[participant_id],
                frozenset(decision.categories),
                tuple(obstacles.get(participant_id, ())),
            )
        )
    return Counting(persons, _digest(persons))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _digest(persons: Sequence[Person]) -> str:
    """SHA-256 over what was counted, in a stable order: a reproduction shows the same facts."""
    shown: list[Mapping[str, Any]] = [
        {
            "allowed": sorted(person.allowed),
            "obstacles": list(person.obstacles),
            "trajectories": [
                [
                    t.source,
                    t.reference,
                    t.method,
                    t.municipality,
                    t.started_on.isoformat(),
                    sorted((k, v.isoformat()) for k, v in t.milestones.items()),
                    t.outcome,
                    t.ended_on.isoformat() if t.ended_on else None,
                    t.hours_per_week,
                ]
                for t in person.trajectories
            ],
        }
        for person in persons
    ]
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode("utf-8")).hexdigest()

"""The embedded engine and an OPA server give the same decision for the same input (docs/architecture.md).

Two generators: a deterministic grid over every requester domain x role x purpose x consent state
(in force or not; grantee the party, its domain or another; same or other purpose; covering the
categories asked, part of them or others), with the categories asked, the director and a second
consent drawn from a seeded ``random.Random``; and hypothesis for hostile shapes on top. Two
smaller grids add what the first does not reach: the domains with a reach (the employer's care-data
rule among them), and case conferences (before, inside and after the window; chair, invited or
not; a consent for this conference naming the party or not, one for another, none). A last grid
counts for regional monitoring: the statistics office of a consent region, of an agreement region
or another party; a release for each region, an unknown one or none; consent covering all, part
or nothing; objected or not.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.opa_server import OpaServerEngine

DOMAINS = ["ggz", "uwv", "gemeente", "client-support", "police"]
ROLES = [
    "care-coordinator",
    "ips-job-coach",
    "reintegration-advisor",
    "insurance-physician",
    "case-manager",
    "client-supporter",
    "privacy-officer",
    "operator",
    "janitor",
]
PARTIES = ["ggz-rivierduinen", "uwv-leiden", "gemeente-leiden", "mee-leiden"]
PURPOSES = ["reintegration", "case-coordination", "marketing"]
REACH_DOMAINS = ["reintegration-provider", "peer-support", "shelter", "employer"]
REACH_ROLES = [
    "trajectory-coach",
    "ips-job-coach",
    "life-coach",
    "peer-supporter",
    "shelter-worker",
    "employer-representative",
]
CONFERENCE = "case-conference"
CATEGORIES = [
    "care.involvement",
    "care.work_readiness",
    "care.diagnosis",
    "income.benefit",
    "work.capacity",
    "work.reintegration",
    "social.support",
    "plan.goals",
    "plan.actions",
    "plan.involved",
    "health.dna",
]

COHERENT_REQUESTERS = [
    {"party": "ggz-rivierduinen", "domain": "ggz", "role": "care-coordinator"},
    {"party": "uwv-leiden", "domain": "uwv", "role": "reintegration-advisor"},
    {"party": "gemeente-leiden", "domain": "gemeente", "role": "case-manager"},
    {"party": "mee-leiden", "domain": "client-support", "role": "client-supporter"},
    {"party": "dzb-leiden", "domain": "reintegration-provider", "role": "trajectory-coach"},
    {"party": "ervaring-leiden", "domain": "peer-support", "role": "peer-supporter"},
    {"party": "werkgever-zeeland", "domain": "employer", "role": "employer-representative"},
]
random_requesters = st.fixed_dictionaries(
    {
        "party": st.sampled_from(PARTIES),
        "domain": st.sampled_from(DOMAINS + REACH_DOMAINS),
        "role": st.sampled_from(ROLES + REACH_ROLES),
    }
)


@st.composite
def policy_inputs(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly coherent requests (so that allows are common), with hostile variation mixed in."""
    coherent = draw(st.integers(0, 3)) > 0
    requester = draw(st.sampled_from(COHERENT_REQUESTERS) if coherent else random_requesters)
    purpose = draw(st.sampled_from([*PURPOSES, "reintegration", "case-coordination", CONFERENCE]))
    asked = draw(st.lists(st.sampled_from(CATEGORIES), max_size=6))
    grantees = st.sampled_from([requester["party"], requester["domain"], *PARTIES, *DOMAINS])
    consent = st.fixed_dictionaries(
        {
            "id": st.sampled_from(["c1", "c2", "c3", "c4"]),
            "grantee": st.one_of(
                st.sampled_from([requester["party"], requester["domain"]]), grantees
            ),
            "purpose": st.one_of(st.just(purpose), st.sampled_from(PURPOSES)),
            "categories": st.one_of(
                st.just(asked), st.lists(st.sampled_from(CATEGORIES), max_size=5)
            ),
            "in_force": st.booleans(),
        }
    )
    subject: dict[str, Any] = {"consents": draw(st.lists(consent, max_size=4))}
    if draw(st.booleans()):
        subject["director"] = draw(st.sampled_from([requester["party"], *PARTIES]))
    drawn: dict[str, Any] = {
        "requester": requester,
        "purpose": purpose,
        "categories": asked,
        "subject": subject,
        "now": draw(st.sampled_from(NOWS)),
    }
    if draw(st.booleans()):
        parties = st.lists(st.sampled_from([requester["party"], *PARTIES]), max_size=3)
        drawn["conference"] = {
            "id": draw(st.sampled_from(["conf-1", "conf-2"])), "chair": draw(st.sampled_from(PARTIES)),
            "starts_at": WINDOW[0], "ends_at": WINDOW[1], "invited": draw(parties),
        }  # fmt: skip
        subject["conference_consents"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "id": st.sampled_from(["a1", "a2"]),
                        "conference": st.sampled_from(["conf-1", "conf-2"]),
                        "parties": parties,
                        "categories": st.lists(st.sampled_from(CATEGORIES), max_size=4),
                    }
                ),
                max_size=2,
            )
        )
    return drawn


PARTY_OF_DOMAIN = {
    "ggz": "ggz-rivierduinen",
    "uwv": "uwv-leiden",
    "gemeente": "gemeente-leiden",
    "client-support": "mee-leiden",
    "police": "politie-leiden",
    "reintegration-provider": "dzb-leiden",
    "peer-support": "ervaring-leiden",
    "shelter": "opvang-leiden",
    "employer": "werkgever-zeeland",
}
# A conference's window, and moments before, inside and after it (the end itself is after).
WINDOW = ("2026-11-24T09:00:00Z", "2026-11-24T12:00:00Z")
NOWS = ["2026-11-24T08:59:59Z", "2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z"]
MEMBERSHIPS = ["chair", "invited", "outsider"]
CONFERENCE_CONSENTS = ["this-naming", "this-not-naming", "other-conference", "none"]
IN_FORCE = [True, False]
GRANTEE_KINDS = ["party", "domain", "other"]
CONSENT_PURPOSES = ["same", "other"]
CONSENT_CATEGORIES = ["asked", "part", "others"]
ALL_REASON_CODES = {
    "purpose.unknown",
    "requester.party_missing",
    "requester.role_not_in_domain",
    "requester.not_allowed_for_purpose",
    "request.refused",
    "category.unknown",
    "category.care_data_barred",
    "category.medical_secrecy",
    "category.beyond_reach",
    "category.not_for_purpose",
    "conference.missing",
    "conference.not_invited",
    "conference.not_open",
    "conference.closed",
    "conference.consented",
    "conference.consent_missing",
    "release.missing",
    "release.region_unknown",
    "release.not_recipient",
    "monitoring.objected",
    "monitoring.agreement",
    "director.overview",
    "consent.covered",
    "consent.party_required",
    "consent.missing",
}
GRID_SEED = 20261124


def grid_inputs(seed: int = GRID_SEED) -> list[dict[str, Any]]:
    """Every domain x role x purpose x consent state once; the rest drawn from a seeded generator.

    Then the domains with a reach, and case conferences, each on a grid of its own.
    """
    rng = random.Random(seed)
    grid = itertools.product(
        DOMAINS, ROLES, PURPOSES, IN_FORCE, GRANTEE_KINDS, CONSENT_PURPOSES, CONSENT_CATEGORIES
    )
    inputs = [_grid_input(rng, index, *cell) for index, cell in enumerate(grid)]
    reach = itertools.product(
        REACH_DOMAINS, REACH_ROLES, [*PURPOSES[:2], CONFERENCE], GRANTEE_KINDS
    )
    inputs += [_reach_input(rng, *cell) for cell in reach]
    requesters = [
        *COHERENT_REQUESTERS,
        {"party": "opvang-leiden", "domain": "shelter", "role": "life-coach"},
        {"party": "uwv-leiden", "domain": "uwv", "role": "operator"},
    ]
    conferences = itertools.product(requesters, NOWS, MEMBERSHIPS, CONFERENCE_CONSENTS)
    inputs += [_conference_input(rng, *cell) for cell in conferences]
    counting = itertools.product(OFFICES, RELEASE_REGIONS, MONITORING_CONSENTS, [False, True])
    inputs += [_monitoring_input(rng, *cell) for cell in counting]
    return inputs


OFFICES = [
    {"party": "stuurgroep-holland-rijnland", "domain": "region", "role": "regional-statistics"},
    {"party": "stuurgroep-zeeland", "domain": "region", "role": "regional-statistics"},
    {"party": "uwv-leiden", "domain": "uwv", "role": "reintegration-advisor"},
]
RELEASE_REGIONS = ["holland-rijnland", "zeeland", "atlantis", None]
MONITORING_CONSENTS = ["all", "part", "other-purpose", "none"]
TRAJECTORY = ["trajectory.milestone", "trajectory.outcome", "trajectory.start"]


def _monitoring_input(
    rng: random.Random, requester: dict[str, str], region: str | None, consent: str, objected: bool
) -> dict[str, Any]:
    """One participant counted (or not) for a release of ``region`` (None: outside a release)."""
    covered = {"all": TRAJECTORY, "part": rng.sample(TRAJECTORY, 2), "other-purpose": TRAJECTORY}
    consents = []
    if consent in covered:
        purpose = "reintegration" if consent == "other-purpose" else "regional-monitoring"
        grantee = rng.choice(["region", requester["party"]])
        consents.append({"id": "m1", "grantee": grantee, "purpose": purpose,
                         "categories": covered[consent], "in_force": True})  # fmt: skip
    drawn: dict[str, Any] = {
        "requester": requester,
        "purpose": "regional-monitoring",
        "categories": rng.sample([*TRAJECTORY, "income.benefit"], rng.randint(1, 4)),
        "subject": {"consents": consents, "director": None, "monitoring_objection": objected},
        "now": NOWS[1],
    }
    if region is not None:
        drawn["release"] = {"region": region}
    return drawn


def _reach_input(
    rng: random.Random, domain: str, role: str, purpose: str, grantee_kind: str
) -> dict[str, Any]:
    """A requester of a domain with a reach, asking for care data and more on a consent for all."""
    party = PARTY_OF_DOMAIN[domain]
    asked = rng.sample(CATEGORIES, rng.randint(2, 5))
    grantee = {"party": party, "domain": domain, "other": "uwv-leiden"}[grantee_kind]
    consent = {"id": "r1", "grantee": grantee, "purpose": purpose, "categories": CATEGORIES,
               "in_force": True}  # fmt: skip
    return {
        "requester": {"party": party, "domain": domain, "role": role},
        "purpose": purpose,
        "categories": asked,
        "subject": {"consents": [consent], "director": party if rng.random() < 0.3 else None},
        "now": NOWS[1],
    }


def _conference_input(
    rng: random.Random, requester: dict[str, str], now: str, membership: str, consent: str
) -> dict[str, Any]:
    """A case-conference read: when, by whom, on which consent; the categories drawn."""
    party = requester["party"]
    others = [p for p in PARTIES if p != party]
    chair = party if membership == "chair" else rng.choice(others)
    invited = rng.sample(others, 2) + ([party] if membership == "invited" else [])
    named = {
        "this-naming": ("conf-1", [party, *others[:1]]),
        "this-not-naming": ("conf-1", others[:2]),
        "other-conference": ("conf-2", [party]),
    }
    consents = []
    if consent in named:
        conference_id, parties = named[consent]
        consents.append({
            "id": "a1", "conference": conference_id, "parties": parties,
            "categories": rng.sample(CATEGORIES, rng.randint(2, 6)),
        })  # fmt: skip
    return {
        "requester": requester,
        "purpose": CONFERENCE,
        "categories": rng.sample(CATEGORIES, rng.randint(1, 5)),
        "subject": {"consents": [], "conference_consents": consents, "director": None},
        "conference": {
            "id": "conf-1",
            "chair": chair,
            "starts_at": WINDOW[0],
            "ends_at": WINDOW[1],
            "invited": invited,
        },
        "now": now,
    }


def _grid_input(
    rng: random.Random,
    index: int,
    domain: str,
    role: str,
    purpose: str,
    in_force: bool,
    grantee_kind: str,
    consent_purpose: str,
    consent_categories: str,
) -> dict[str, Any]:
    requester: dict[str, Any] = {"domain": domain, "role": role}
    party_choice = rng.random()
    if party_choice < 0.85:
        requester["party"] = PARTY_OF_DOMAIN[domain]
    elif party_choice < 0.95:
        requester["party"] = rng.choice([p for p in PARTIES if p != PARTY_OF_DOMAIN[domain]])
    asked = rng.sample(CATEGORIES, rng.randint(1, 4))
    others = [category for category in CATEGORIES if category not in asked]
    party = requester.get("party", PARTY_OF_DOMAIN[domain])
    grantee = {
        "party": party,
        "domain": domain,
        "other": rng.choice([g for g in [*PARTIES, *DOMAINS] if g not in {party, domain}]),
    }[grantee_kind]
    covered = {
        "asked": asked,
        "part": asked[: max(1, len(asked) // 2)],
        "others": rng.sample(others, rng.randint(1, 3)),
    }[consent_categories]
    consents = [
        {
            "id": f"c{index}",
            "grantee": grantee,
            "purpose": purpose if consent_purpose == "same" else _other(rng, PURPOSES, purpose),
            "categories": covered,
            "in_force": in_force,
        }
    ]
    if rng.random() < 0.3:
        consents.append(
            {
                "id": f"c{index}-2",
                "grantee": rng.choice([party, domain, *PARTIES]),
                "purpose": rng.choice([purpose, *PURPOSES]),
                "categories": rng.sample(CATEGORIES, rng.randint(0, 4)),
                "in_force": rng.random() < 0.7,
            }
        )
    subject: dict[str, Any] = {"consents": consents}
    director = index % 3  # absent, the requesting party, another party
    if director:
        subject["director"] = party if director == 1 else _other(rng, PARTIES, party)
    return {
        "requester": requester,
        "purpose": purpose,
        "categories": asked,
        "subject": subject,
        "now": "2026-11-24T10:00:00Z",
    }


def _other(rng: random.Random, choices: list[str], value: str) -> str:
    return rng.choice([choice for choice in choices if choice != value])


@pytest.mark.opa
def test_engines_agree_on_the_whole_grid(embedded: EmbeddedEngine, opa: OpaServerEngine) -> None:
    inputs = grid_inputs()
    started = time.monotonic()
    disagreements = []
    outcomes: Counter[bool] = Counter()
    codes: set[str] = set()
    for policy_input in inputs:
        decision = embedded.decide(policy_input)
        if decision != opa.decide(policy_input):
            disagreements.append(policy_input)
        outcomes[decision.allow] += 1
        codes.update(reason.code for reason in decision.reasons)
    elapsed = time.monotonic() - started
    print(
        f"differential: {len(inputs)} inputs, {outcomes[True]} allowed, "
        f"{len(disagreements)} disagreements, {elapsed:.1f} s"
    )
    assert len(inputs) >= 1000
    assert disagreements == []
    # The grid reaches every rule: both outcomes occur often and every reason code occurs.
    assert min(outcomes.values()) >= 50
    assert codes == ALL_REASON_CODES


def test_grid_is_deterministic() -> None:
    assert grid_inputs() == grid_inputs()
    assert len(grid_inputs()) == (
        5 * 9 * 3 * 2 * 3 * 2 * 3
        + 4 * 6 * 3 * 3
        + (len(COHERENT_REQUESTERS) + 2) * 3 * 3 * 4
        + 3 * 4 * 4 * 2
    )


@pytest.mark.opa
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(policy_input=policy_inputs())
def test_engines_agree(
    embedded: EmbeddedEngine, opa: OpaServerEngine, policy_input: dict[str, Any]
) -> None:
    assert embedded.decide(policy_input) == opa.decide(policy_input)

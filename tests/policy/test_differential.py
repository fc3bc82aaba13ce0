"""The embedded engine and an OPA server give the same decision for the same input (docs/architecture.md).

Two generators: a deterministic grid over every requester domain x role x purpose x consent state
(in force or not; grantee the party, its domain or another; same or other purpose; covering the
categories asked, part of them or others), with the categories asked, the director and a second
consent drawn from a seeded ``random.Random``; and hypothesis for hostile shapes on top.
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
    "health.dna",
]

COHERENT_REQUESTERS = [
    {"party": "ggz-rivierduinen", "domain": "ggz", "role": "care-coordinator"},
    {"party": "uwv-leiden", "domain": "uwv", "role": "reintegration-advisor"},
    {"party": "gemeente-leiden", "domain": "gemeente", "role": "case-manager"},
    {"party": "mee-leiden", "domain": "client-support", "role": "client-supporter"},
]
random_requesters = st.fixed_dictionaries(
    {
        "party": st.sampled_from(PARTIES),
        "domain": st.sampled_from(DOMAINS),
        "role": st.sampled_from(ROLES),
    }
)


@st.composite
def policy_inputs(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly coherent requests (so that allows are common), with hostile variation mixed in."""
    coherent = draw(st.integers(0, 3)) > 0
    requester = draw(st.sampled_from(COHERENT_REQUESTERS) if coherent else random_requesters)
    purpose = draw(st.sampled_from([*PURPOSES, "reintegration", "case-coordination"]))
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
    return {
        "requester": requester,
        "purpose": purpose,
        "categories": asked,
        "subject": subject,
        "now": "2026-11-24T10:00:00Z",
    }


PARTY_OF_DOMAIN = {
    "ggz": "ggz-rivierduinen",
    "uwv": "uwv-leiden",
    "gemeente": "gemeente-leiden",
    "client-support": "mee-leiden",
    "police": "politie-leiden",
}
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
    "category.medical_secrecy",
    "category.not_for_purpose",
    "director.overview",
    "consent.covered",
    "consent.party_required",
    "consent.missing",
}
GRID_SEED = 20261124


def grid_inputs(seed: int = GRID_SEED) -> list[dict[str, Any]]:
    """Every domain x role x purpose x consent state once; the rest drawn from a seeded generator."""
    rng = random.Random(seed)
    grid = itertools.product(
        DOMAINS, ROLES, PURPOSES, IN_FORCE, GRANTEE_KINDS, CONSENT_PURPOSES, CONSENT_CATEGORIES
    )
    return [_grid_input(rng, index, *cell) for index, cell in enumerate(grid)]


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
    assert len(grid_inputs()) == 5 * 9 * 3 * 2 * 3 * 2 * 3


@pytest.mark.opa
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(policy_input=policy_inputs())
def test_engines_agree(
    embedded: EmbeddedEngine, opa: OpaServerEngine, policy_input: dict[str, Any]
) -> None:
    assert embedded.decide(policy_input) == opa.decide(policy_input)

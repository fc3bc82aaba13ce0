"""The embedded engine and an OPA server give the same decision for the same input (DESIGN.md)."""

from __future__ import annotations

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


@pytest.mark.opa
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(policy_input=policy_inputs())
def test_engines_agree(
    embedded: EmbeddedEngine, opa: OpaServerEngine, policy_input: dict[str, Any]
) -> None:
    assert embedded.decide(policy_input) == opa.decide(policy_input)

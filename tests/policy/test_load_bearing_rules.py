"""The employer's care-data rule and the conference window rule each carry their decision alone:
with the rule taken out of a copy of the policies, the same input is decided the other way.

So neither is shadowed by another rule (a reach, a consent check), and the probes and tests that
name them fail when they go.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.policy.bundle import load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.engine import Decision

DISCLOSURE = Path("schakel") / "disclosure"
CATALOGUE = Path("schakel") / "catalogue" / "data.json"
EMPLOYER = {"party": "werkgever-zeeland", "domain": "employer", "role": "employer-representative"}
UWV = {"party": "uwv-leiden", "domain": "uwv", "role": "reintegration-advisor"}
CONFERENCE = {
    "id": "conf-1", "chair": "dzb-leiden", "starts_at": "2026-11-24T09:00:00Z",
    "ends_at": "2026-11-24T12:00:00Z", "invited": ["uwv-leiden"],
}  # fmt: skip


def employer_asks_for_care_data() -> dict[str, Any]:
    consent = {"id": "c1", "grantee": "werkgever-zeeland", "purpose": "reintegration",
               "categories": ["care.involvement"], "in_force": True}  # fmt: skip
    return {
        "requester": EMPLOYER, "purpose": "reintegration", "categories": ["care.involvement"],
        "subject": {"consents": [consent], "director": None}, "now": "2026-11-24T10:00:00Z",
    }  # fmt: skip


def uwv_reads_after_the_window() -> dict[str, Any]:
    consent = {"id": "a1", "conference": "conf-1", "parties": ["uwv-leiden"],
               "categories": ["plan.actions"]}  # fmt: skip
    return {
        "requester": UWV, "purpose": "case-conference", "categories": ["plan.actions"],
        "subject": {"consents": [], "conference_consents": [consent], "director": None},
        "conference": CONFERENCE, "now": "2026-11-24T12:00:01Z",
    }  # fmt: skip


def _employer_reaches_care_data(policies: Path) -> None:
    """Widen the employer's reach to care data, so that only the care-data rule stands in the way."""
    path = policies / CATALOGUE
    catalogue = json.loads(path.read_text("utf-8"))
    catalogue["domains"]["employer"]["reach"].append("care.involvement")
    path.write_text(json.dumps(catalogue), "utf-8")


def _edit(policies: Path, module: str, rule: str, without: str) -> None:
    path = policies / DISCLOSURE / module
    text = path.read_text("utf-8")
    assert rule in text, f"{module} no longer holds {rule!r}"
    path.write_text(text.replace(rule, without), "utf-8")


CASES = {
    "employer-care-data": (
        employer_asks_for_care_data,
        "reach.rego",
        'data.schakel.catalogue.domains[input.requester.domain].care_data == "never"',
        'data.schakel.catalogue.domains[input.requester.domain].care_data == "no-domain-says-this"',
    ),
    "conference-window": (
        uwv_reads_after_the_window,
        "conference.rego",
        "conference_running if time.parse_rfc3339_ns(input.now) < time.parse_rfc3339_ns("
        "input.conference.ends_at)",
        "conference_running := true",
    ),
}


def _decide(policies: Path, policy_input: dict[str, Any]) -> Decision:
    return EmbeddedEngine(load_bundle(policies)).decide(policy_input)


@pytest.mark.parametrize("case", sorted(CASES))
def test_without_the_rule_the_refused_read_is_disclosed(case: str, policies_copy: Path) -> None:
    make_input, module, rule, without = CASES[case]
    _employer_reaches_care_data(policies_copy)
    with_rule = _decide(policies_copy, make_input())
    assert not with_rule.allow

    _edit(policies_copy, module, rule, without)
    without_rule = _decide(policies_copy, make_input())
    assert without_rule.allow, without_rule.reasons

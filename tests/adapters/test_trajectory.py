"""The trajectory message: a start, its milestones and its outcome as the trajectory.* categories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.errors import PayloadError, UnknownCode
from adapters.trajectory import parse_trajectory

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "adapters" / "trajectory-message.json"


def _message(**trajectory: Any) -> bytes:
    document = json.loads(SAMPLE.read_text("utf-8"))
    document["trajectory"] = {"reference": "T-1", **trajectory}
    return json.dumps(document).encode()


def test_the_sample_maps_to_a_start_a_milestone_and_an_outcome() -> None:
    parsed = parse_trajectory(SAMPLE.read_bytes())
    facts = [(item.category, item.fields, item.location) for item in parsed.contributions]
    assert facts == [
        ("trajectory.start", {"reference": "DZB-2026-0042", "method": "social-development-company",
                              "provider": "DZB Leiden, werkfit-traject", "municipality": "GM0546",
                              "started_on": "2026-02-02"}, "#/trajectory"),
        ("trajectory.milestone", {"reference": "DZB-2026-0042", "milestone": "placement",
                                  "reached_on": "2026-06-15"}, "#/trajectory/milestones/0"),
        ("trajectory.outcome", {"reference": "DZB-2026-0042", "outcome": "paid-work",
                                "ended_on": "2026-09-01", "hours_per_week": 24},
         "#/trajectory/outcome"),
    ]  # fmt: skip
    assert {item.source_party for item in parsed.contributions} == {"dzb-leiden"}
    assert parsed.participant is not None and parsed.participant.value == "999993021"


def test_an_outcome_alone_is_a_fact_of_its_own() -> None:
    parsed = parse_trajectory(_message(outcome={"code": "education", "date": "2026-10-01"}))
    assert [item.category for item in parsed.contributions] == ["trajectory.outcome"]


def test_an_unknown_method_names_the_valid_codes_at_its_location() -> None:
    with pytest.raises(UnknownCode) as refused:
        parse_trajectory(_message(method="magic", municipality="GM0546", startDate="2026-01-05"))
    fault = refused.value.faults[0]
    assert fault.location == "#/trajectory/method" and "ips" in fault.detail


@pytest.mark.parametrize(
    ("trajectory", "location"),
    [
        ({"method": "ips", "municipality": "Leiden", "startDate": "2026-01-05"},
         "#/trajectory/municipality"),
        ({"outcome": {"code": "education", "date": "2026-10-01", "hoursPerWeek": 20}},
         "#/trajectory/outcome/hoursPerWeek"),
        ({"milestones": [{"code": "placement", "date": "1 May"}]},
         "#/trajectory/milestones/0/date"),
        ({}, "#/trajectory"),
    ],
)  # fmt: skip
def test_faults_are_named_by_location(trajectory: dict[str, Any], location: str) -> None:
    with pytest.raises(PayloadError) as refused:
        parse_trajectory(_message(**trajectory))
    assert refused.value.faults[0].location == location


def test_members_outside_the_format_are_dropped_by_name() -> None:
    parsed = parse_trajectory(
        _message(method="ips", municipality="GM0546", startDate="2026-01-05", diagnosis="F32")
    )
    assert [(d.field, d.reason, d.location) for d in parsed.dropped] == [
        ("diagnosis", "outside-catalogue", "#/trajectory/diagnosis")
    ]

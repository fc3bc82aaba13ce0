"""Each adapter: sample payload -> canonical contributions -> rendered view -> the same canonical."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from adapters.formats import adapters
from adapters.ggz import render_disclosure_bundle
from adapters.protocol import DisclosedView, ParsedPayload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adapters"
PSEUDONYM = "5e" * 32
SAMPLES = [
    ("ggz-fhir", "ggz-bundle.json"),
    ("uwv-xml", "uwv-message.xml"),
    ("uwv-json", "uwv-message.json"),
    ("gemeente-zgw", "gemeente-zaken.json"),
    ("trajectory-json", "trajectory-message.json"),
]


def canonical(parsed: ParsedPayload) -> dict[str, dict[str, Any]]:
    return {item.category: item.fields for item in parsed.contributions}


def view_of(categories: dict[str, dict[str, Any]], **withheld: str) -> DisclosedView:
    return DisclosedView(
        subject_pseudonym=PSEUDONYM,
        domain="ggz",
        decision_id="7d1f6c1e-2b0a-4c38-9d43-5b1f0c2e8a11",
        purpose="reintegration",
        categories=categories,
        withheld=withheld,
        decided_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        policy_revision="sha256:" + "0" * 64,
    )


@pytest.mark.parametrize(("fmt", "sample"), SAMPLES)
def test_sample_round_trips_through_the_canonical_categories(fmt: str, sample: str) -> None:
    adapter = adapters()[fmt]
    parsed = adapter.parse((FIXTURES / sample).read_bytes())
    shown = {c: f for c, f in canonical(parsed).items() if c != "care.diagnosis"}
    rendered = adapter.render(view_of(shown, **{"care.diagnosis": "never-disclosable"}))
    again = adapter.parse(rendered.body)
    assert canonical(again) == shown
    assert {item.subject.kind for item in again.contributions} == {"pseudonym"}
    assert {item.subject.value for item in again.contributions} == {PSEUDONYM}
    if fmt == "ggz-fhir":
        assert {item.subject.domain for item in again.contributions} == {"ggz"}


@pytest.mark.parametrize(("fmt", "sample"), SAMPLES)
def test_rendered_view_never_holds_a_bsn(fmt: str, sample: str) -> None:
    adapter = adapters()[fmt]
    parsed = adapter.parse((FIXTURES / sample).read_bytes())
    bsn = parsed.contributions[0].subject.value
    rendered = adapter.render(view_of(canonical(parsed)))
    assert bsn.encode() not in rendered.body
    assert b"fhir.nl/fhir/NamingSystem/bsn" not in rendered.body
    assert b"inpBsn" not in rendered.body


def test_ggz_sample_maps_to_involvement_and_work_readiness() -> None:
    parsed = adapters()["ggz-fhir"].parse((FIXTURES / "ggz-bundle.json").read_bytes())
    assert canonical(parsed) == {
        "care.involvement": {
            "in_care": True,
            "since": "2025-03-01",
            "coordinator_contact": {
                "name": "Joris de Vries",
                "phone": "071-5265000",
                "email": "j.devries@ggz-rivierduinen.example",
            },
        },
        "care.work_readiness": {
            "assessed_at": "2026-11-20",
            "readiness": "ready-for-work",
            "summary": "Wil 24 uur per week werken in de groenvoorziening.",
            "ips_stage": "job-search",
        },
        "care.diagnosis": {
            "code": "35489007",
            "system": "http://snomed.info/sct",
            "display": "Depressive disorder",
            "recorded_at": "2025-02-14",
        },
    }
    reasons = {item.location: item.reason for item in parsed.dropped}
    assert reasons["Bundle.entry[7].resource"] == "clinical-resource"


def test_disclosure_bundle_is_a_valid_r4_collection_with_withheld_reasons() -> None:
    view = view_of(
        {
            "care.involvement": {"in_care": True, "since": "2025-03-01"},
            "income.benefit": {"benefit_type": "WW", "status": "active", "until": None},
            "plan.goals": {"goals": ["Werk in de groenvoorziening", {"owner": "ggz"}]},
        },
        **{"care.diagnosis": "never-disclosable", "work.capacity": "no-consent"},
    )
    document = render_disclosure_bundle(view)
    bundle = Bundle.model_validate(document)
    assert bundle.type == "collection"
    kinds = [entry["resource"]["resourceType"] for entry in document["entry"]]
    assert kinds == ["Patient", "EpisodeOfCare", "Observation", "Observation", "OperationOutcome"]
    patient = document["entry"][0]["resource"]
    assert patient["identifier"] == [
        {
            "system": "https://schakel.nl/fhir/NamingSystem/participant-pseudonym/ggz",
            "value": PSEUDONYM,
        }
    ]
    assert document["identifier"] == {
        "system": "https://schakel.nl/fhir/NamingSystem/decision",
        "value": view.decision_id,
    }
    issues = document["entry"][-1]["resource"]["issue"]
    assert [(i["diagnostics"], i["details"]["coding"][0]["code"]) for i in issues] == [
        ("care.diagnosis", "never-disclosable"),
        ("work.capacity", "no-consent"),
    ]
    assert document["meta"]["tag"][0]["code"] == "reintegration"


def test_disclosure_bundle_without_a_subject_holds_only_the_withheld_categories() -> None:
    view = replace(view_of({}, **{"work.capacity": "consent.missing"}), subject_pseudonym=None)
    document = render_disclosure_bundle(view)
    Bundle.model_validate(document)
    assert [entry["resource"]["resourceType"] for entry in document["entry"]] == [
        "OperationOutcome"
    ]
    assert document["entry"][0]["resource"]["issue"][0]["diagnostics"] == "work.capacity"


def test_disclosure_bundle_is_deterministic() -> None:
    view = view_of({"care.involvement": {"in_care": False}})
    assert render_disclosure_bundle(view) == render_disclosure_bundle(view)

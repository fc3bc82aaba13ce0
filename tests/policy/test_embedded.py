"""The embedded engine decides each disclosure rule as the policies say, and fails closed."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from gateway.policy.bundle import load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.engine import Decision, PolicyEngineUnavailable

UWV = {"party": "uwv-leiden", "domain": "uwv", "role": "reintegration-advisor"}
GGZ = {"party": "ggz-rivierduinen", "domain": "ggz", "role": "care-coordinator"}
DIRECTOR = {"party": "gemeente-leiden", "domain": "gemeente", "role": "case-manager"}
SUPPORTER = {"party": "mee-leiden", "domain": "client-support", "role": "client-supporter"}


def consent(grantee: str, categories: list[str], purpose: str = "reintegration") -> dict[str, Any]:
    return {
        "id": f"c-{grantee}",
        "grantee": grantee,
        "purpose": purpose,
        "categories": categories,
        "in_force": True,
    }


def request(
    requester: dict[str, str],
    categories: list[str],
    consents: list[dict[str, Any]],
    purpose: str = "reintegration",
) -> dict[str, Any]:
    return {
        "requester": requester,
        "purpose": purpose,
        "categories": categories,
        "subject": {"consents": consents, "director": "gemeente-leiden"},
        "now": "2026-11-24T10:00:00Z",
    }


def codes(decision: Decision) -> dict[str | None, str]:
    return {reason.category: reason.code for reason in decision.reasons}


def test_design_example_discloses_consented_category_only(embedded: EmbeddedEngine) -> None:
    decision = embedded.decide(
        request(UWV, ["care.involvement", "work.capacity"], [consent("uwv", ["care.involvement"])])
    )
    assert decision.allow
    assert decision.categories == ["care.involvement"]
    assert decision.fields == {"care.involvement": ["in_care", "since", "coordinator_contact"]}
    assert "pseudonymise-subject" in decision.obligations
    assert codes(decision) == {
        "care.involvement": "consent.covered",
        "work.capacity": "consent.missing",
    }
    assert decision.reasons[0].consent_ids == ["c-uwv"]
    assert decision.policy_revision == embedded.revision


def test_consent_not_in_force_denies(embedded: EmbeddedEngine) -> None:
    revoked = {**consent("uwv", ["income.benefit"]), "in_force": False}
    decision = embedded.decide(request(UWV, ["income.benefit"], [revoked]))
    assert not decision.allow
    assert decision.obligations == []


def test_consent_for_another_purpose_denies(embedded: EmbeddedEngine) -> None:
    other = consent("uwv", ["income.benefit"], purpose="case-coordination")
    assert not embedded.decide(request(UWV, ["income.benefit"], [other])).allow


def test_unknown_purpose_refuses_whole_request(embedded: EmbeddedEngine) -> None:
    decision = embedded.decide(
        request(UWV, ["income.benefit"], [consent("uwv", ["income.benefit"], "x")], purpose="x")
    )
    assert not decision.allow
    assert decision.reasons[0].model_dump() == {
        "category": None,
        "allowed": False,
        "code": "purpose.unknown",
        "reason": "the purpose is not in the catalogue",
        "consent_ids": [],
    }
    assert codes(decision)["income.benefit"] == "request.refused"


def test_requester_role_not_allowed_for_purpose_refuses(embedded: EmbeddedEngine) -> None:
    physician = {**UWV, "role": "insurance-physician"}
    decision = embedded.decide(
        request(
            physician,
            ["income.benefit"],
            [consent("uwv", ["income.benefit"], "case-coordination")],
            "case-coordination",
        )
    )
    assert not decision.allow
    assert codes(decision)[None] == "requester.not_allowed_for_purpose"


def test_unknown_category_denied_with_reason(embedded: EmbeddedEngine) -> None:
    decision = embedded.decide(request(UWV, ["health.dna"], [consent("uwv", ["health.dna"])]))
    assert codes(decision) == {"health.dna": "category.unknown"}


def test_category_outside_purpose_denied(embedded: EmbeddedEngine) -> None:
    decision = embedded.decide(
        request(
            UWV,
            ["work.capacity"],
            [consent("uwv", ["work.capacity"], "case-coordination")],
            "case-coordination",
        )
    )
    assert codes(decision) == {"work.capacity": "category.not_for_purpose"}


def test_diagnosis_never_leaves_ggz_whatever_the_consent(embedded: EmbeddedEngine) -> None:
    decision = embedded.decide(
        request(UWV, ["care.diagnosis"], [consent("uwv-leiden", ["care.diagnosis"])])
    )
    assert codes(decision) == {"care.diagnosis": "category.medical_secrecy"}


def test_diagnosis_not_in_any_shipped_purpose_even_for_ggz(embedded: EmbeddedEngine) -> None:
    decision = embedded.decide(
        request(GGZ, ["care.diagnosis"], [consent("ggz-rivierduinen", ["care.diagnosis"])])
    )
    assert codes(decision) == {"care.diagnosis": "category.not_for_purpose"}


def test_client_support_needs_consent_naming_the_party(embedded: EmbeddedEngine) -> None:
    domain_wide = embedded.decide(
        request(SUPPORTER, ["plan.goals"], [consent("client-support", ["plan.goals"])])
    )
    assert codes(domain_wide) == {"plan.goals": "consent.party_required"}
    named = embedded.decide(
        request(SUPPORTER, ["plan.goals"], [consent("mee-leiden", ["plan.goals"])])
    )
    assert named.categories == ["plan.goals"]


def test_director_gets_plan_for_case_coordination_without_consent(embedded: EmbeddedEngine) -> None:
    decision = embedded.decide(
        request(
            DIRECTOR, ["plan.goals", "plan.actions", "care.involvement"], [], "case-coordination"
        )
    )
    assert decision.categories == ["plan.actions", "plan.goals"]
    assert codes(decision)["care.involvement"] == "consent.missing"


def test_director_overview_does_not_extend_to_reintegration(embedded: EmbeddedEngine) -> None:
    assert not embedded.decide(request(DIRECTOR, ["plan.goals"], [])).allow


def test_non_json_input_fails_closed(embedded: EmbeddedEngine) -> None:
    with pytest.raises(PolicyEngineUnavailable, match="policy input is not JSON"):
        embedded.decide({"now": object()})


def test_ready_on_loaded_policies(embedded: EmbeddedEngine) -> None:
    assert embedded.ready()


def test_decides_from_many_threads(embedded: EmbeddedEngine) -> None:
    # regorus engines are unsendable between threads; each thread must get its own.
    policy_input = request(UWV, ["income.benefit"], [consent("uwv", ["income.benefit"])])
    expected = embedded.decide(policy_input)
    results: list[Decision] = []
    errors: list[BaseException] = []

    def decide_some() -> None:
        try:
            results.extend(embedded.decide(policy_input) for _ in range(20))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=decide_some) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [expected] * 160


def _bundle_with(tmp_path: Path, rego: str) -> EmbeddedEngine:
    (tmp_path / "p.rego").write_text(rego)
    return EmbeddedEngine(load_bundle(tmp_path))


def test_malformed_decision_fails_closed(tmp_path: Path) -> None:
    engine = _bundle_with(tmp_path, 'package schakel.disclosure\n\ndecision := {"allow": "yes"}\n')
    with pytest.raises(PolicyEngineUnavailable, match="malformed"):
        engine.decide({})
    assert not engine.ready()


def test_allow_without_categories_fails_closed(tmp_path: Path) -> None:
    engine = _bundle_with(tmp_path, 'package schakel.disclosure\n\ndecision := {"allow": true}\n')
    with pytest.raises(PolicyEngineUnavailable, match="allow disagrees"):
        engine.decide({})


def test_undefined_decision_fails_closed(tmp_path: Path) -> None:
    engine = _bundle_with(
        tmp_path, 'package schakel.disclosure\n\ndecision := {"allow": false} if input.never\n'
    )
    with pytest.raises(PolicyEngineUnavailable, match="the decision is undefined"):
        engine.decide({})
    assert not engine.ready()


def test_bundle_without_a_decision_is_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(
        PolicyEngineUnavailable, match=r"defines no data\.schakel\.disclosure\.decision"
    ):
        _bundle_with(tmp_path, "package schakel.disclosure\n\nother := 1\n")


def test_policy_that_does_not_parse_fails_at_start(tmp_path: Path) -> None:
    (tmp_path / "p.rego").write_text("package schakel.disclosure\n\ndecision := {\n")
    with pytest.raises(PolicyEngineUnavailable, match="do not load"):
        EmbeddedEngine(load_bundle(tmp_path))


def test_the_contract_example_in_the_architecture_document_is_what_the_engine_decides(
    embedded: EmbeddedEngine,
) -> None:
    document = (Path(__file__).resolve().parents[2] / "docs/architecture.md").read_text("utf-8")
    section = document.split("## The policy decision contract", 1)[1]
    blocks = section.split("```json")[1:3]
    given, decided = (json.loads(block.split("```", 1)[0]) for block in blocks)
    vector = Path(__file__).resolve().parents[1] / "vectors/decisions/contract-example.input.json"
    assert given == json.loads(vector.read_text("utf-8"))
    decision = embedded.decide(given).model_dump(exclude={"policy_revision"})
    assert decision == decided

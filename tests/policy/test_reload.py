"""New policies take effect without a restart; a bundle that does not load leaves the old in force."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from gateway.core.db import transaction
from gateway.policy.bundle import PolicyBundle, load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.engine import PolicyEngine, PolicyRefused
from gateway.policy.opa_server import OpaServerEngine
from gateway.runtime import Runtime
from tests.policy.gateway_app import (
    CONTRACT_EXAMPLE,
    gateway_settings,
    gateway_with_decide_route,
    operator_headers,
)
from tests.policy.opa_process import OpaProcess

DISCLOSURE = "schakel/disclosure/disclosure.rego"
RELOAD = "/v1/admin/policy/reload"


def without_care_involvement(policies: Path) -> None:
    """An operator's edit: care.involvement is no longer part of the reintegration purpose; the
    probe that expected it disclosed now expects it refused."""
    catalogue = policies / "schakel/catalogue/data.json"
    catalogue.write_text(
        catalogue.read_text().replace(
            '"categories": ["care.involvement", "care.work_readiness",',
            '"categories": ["care.work_readiness",',
        )
    )
    expect(
        policies,
        "consented-category-only",
        allow=False,
        categories=[],
        codes={"care.involvement": "category.not_for_purpose", "work.capacity": "consent.missing"},
    )
    expect(
        policies,
        "no-consent",
        allow=False,
        categories=[],
        codes={"care.involvement": "category.not_for_purpose", "work.capacity": "consent.missing"},
    )


def expect(policies: Path, name: str, **outcome: Any) -> None:
    """Change what one probe expects, as an operator who changes the rules does."""
    probes_file = policies / "probes.json"
    document = json.loads(probes_file.read_text())
    for probe in document["probes"]:
        if probe["name"] == name:
            probe["expect"] = outcome
    probes_file.write_text(json.dumps(document))


def conflicting_decision(policies: Path) -> None:
    """A second module defines the decision too: it loads and passes `opa check`, yet cannot decide."""
    (policies / "schakel/disclosure/override.rego").write_text(
        'package schakel.disclosure\n\ndecision := {"allow": true}\n'
    )


def broken(policies: Path) -> None:
    rego = policies / DISCLOSURE
    rego.write_text(rego.read_text() + "\nbroken := {\n")


@pytest.fixture(params=["embedded", "opa"])
def engine(
    request: pytest.FixtureRequest, bundle: PolicyBundle, tmp_path: Path
) -> Iterator[PolicyEngine]:
    """Each engine kind, on a server of its own where it needs one."""
    if request.param == "embedded":
        embedded = EmbeddedEngine(bundle)
        yield embedded
        embedded.close()
        return
    opa_process: OpaProcess = request.getfixturevalue("opa_process")
    opa = OpaServerEngine(opa_process.url, bundle, timeout=2.0)
    opa.sync()
    yield opa
    opa.close()


def test_reload_puts_new_policies_in_force(engine: PolicyEngine, policies_copy: Path) -> None:
    before = engine.decide(CONTRACT_EXAMPLE)
    assert before.categories == ["care.involvement"]
    without_care_involvement(policies_copy)
    new_bundle = load_bundle(policies_copy)

    engine.reload(new_bundle)

    after = engine.decide(CONTRACT_EXAMPLE)
    assert not after.allow
    assert engine.revision == new_bundle.revision != before.policy_revision
    assert after.policy_revision == new_bundle.revision
    assert engine.ready()


def test_refused_reload_keeps_the_old_policies(engine: PolicyEngine, policies_copy: Path) -> None:
    before = engine.decide(CONTRACT_EXAMPLE)
    without_care_involvement(policies_copy)  # pushed to OPA before the broken module: restored
    broken(policies_copy)

    with pytest.raises(PolicyRefused) as refused:
        engine.reload(load_bundle(policies_copy))

    assert refused.value.path == DISCLOSURE
    assert refused.value.error
    assert engine.revision == before.policy_revision
    assert engine.decide(CONTRACT_EXAMPLE) == before
    assert engine.ready()


def test_reload_on_opa_drops_modules_no_longer_shipped(
    opa_process: OpaProcess, bundle: PolicyBundle, policies_copy: Path
) -> None:
    opa = OpaServerEngine(opa_process.url, bundle, timeout=2.0)
    (policies_copy / "schakel/extra.rego").write_text("package schakel.extra\n\nanswer := 42\n")
    opa.reload(load_bundle(policies_copy))
    (policies_copy / "schakel/extra.rego").unlink()
    opa.reload(load_bundle(policies_copy))
    assert opa.revision == load_bundle(policies_copy).revision
    assert opa.served_revision() == opa.revision
    assert not any("extra" in policy for policy in opa._admin.get_policies_list())
    opa.close()


def test_reload_on_opa_of_modules_that_change_together(
    opa_process: OpaProcess, policies_copy: Path
) -> None:
    """Each new module is refused against the other's old text; the pair still goes in."""
    helper = policies_copy / "schakel/pair/helper.rego"
    user = policies_copy / "schakel/pair/user.rego"
    helper.parent.mkdir()
    helper.write_text("package schakel.pair\n\nold_double(x) := x * 2\n")
    user.write_text("package schakel.pair\n\nanswer := old_double(21)\n")
    opa = OpaServerEngine(opa_process.url, load_bundle(policies_copy), timeout=2.0)
    opa.sync()
    helper.write_text("package schakel.pair\n\nnew_double(x) := x + x\n")
    user.write_text("package schakel.pair\n\nanswer := new_double(21) + 1\n")
    changed = load_bundle(policies_copy)
    opa.reload(changed)
    assert opa.revision == changed.revision
    assert opa.served_revision() == changed.revision
    assert opa._admin.get_data("schakel/pair/answer")["result"] == 43
    assert opa.decide(CONTRACT_EXAMPLE).allow
    opa.close()


@pytest.mark.parametrize("engine_kind", ["embedded", "opa"])
def test_operator_reload_endpoint_changes_the_revision(
    engine_kind: str, request: pytest.FixtureRequest, policies_copy: Path, tmp_path: Path
) -> None:
    opa_url = request.getfixturevalue("opa_process").url if engine_kind == "opa" else None
    settings = gateway_settings(
        tmp_path, engine=engine_kind, opa_url=opa_url, policies_dir=policies_copy
    )
    with gateway_with_decide_route(settings) as (runtime, client):
        headers = operator_headers(runtime, client, ("operator",))
        old_revision = runtime.policy_engine.revision
        assert client.post("/test/decide", json=CONTRACT_EXAMPLE).json()["allow"]
        without_care_involvement(policies_copy)

        response = client.post(RELOAD, headers=headers)

        assert response.status_code == 200, response.text
        assert response.json() == {
            "policy_engine": engine_kind,
            "old_revision": old_revision,
            "new_revision": load_bundle(policies_copy).revision,
            "changed": True,
        }
        decision = client.post("/test/decide", json=CONTRACT_EXAMPLE).json()
        assert not decision["allow"]
        assert decision["policy_revision"] == response.json()["new_revision"]
        assert client.get("/readyz").json()["policy_revision"] == decision["policy_revision"]
        # The catalogue the API validates against is reloaded with the policies.
        assert "care.involvement" not in runtime.catalogue.purposes["reintegration"]
        # The change of revision is in the audit log.
        with transaction(runtime.sessions) as session:
            entry = session.scalars(
                select(AuditEntry).where(AuditEntry.action == "policy.reload")
            ).one()
        assert entry.policy_revision == response.json()["new_revision"]
        assert old_revision in (entry.reason or "")


@pytest.mark.parametrize("engine_kind", ["embedded", "opa"])
def test_policy_that_does_not_compile_is_a_422_and_the_old_revision_stays(
    engine_kind: str, request: pytest.FixtureRequest, policies_copy: Path, tmp_path: Path
) -> None:
    opa_url = request.getfixturevalue("opa_process").url if engine_kind == "opa" else None
    settings = gateway_settings(
        tmp_path, engine=engine_kind, opa_url=opa_url, policies_dir=policies_copy
    )
    with gateway_with_decide_route(settings) as (runtime, client):
        headers = operator_headers(runtime, client, ("operator",))
        old_revision = runtime.policy_engine.revision
        broken(policies_copy)

        response = client.post(RELOAD, headers=headers)

        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["file"] == DISCLOSURE
        assert problem["error"]
        assert problem["policy_revision"] == old_revision
        decision = client.post("/test/decide", json=CONTRACT_EXAMPLE).json()
        assert decision["allow"]
        assert decision["policy_revision"] == old_revision
        assert client.get("/readyz").status_code == 200


def test_data_that_is_not_json_is_a_422_naming_the_file(
    policies_copy: Path, tmp_path: Path
) -> None:
    settings = gateway_settings(tmp_path, policies_dir=policies_copy)
    with gateway_with_decide_route(settings) as (runtime, client):
        headers = operator_headers(runtime, client, ("operator",))
        (policies_copy / "schakel/catalogue/data.json").write_text("{not json")
        response = client.post(RELOAD, headers=headers)
        assert response.status_code == 422
        assert response.json()["file"] == "schakel/catalogue/data.json"


def test_reload_needs_the_operator_role(policies_copy: Path, tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, policies_dir=policies_copy)
    with gateway_with_decide_route(settings) as (runtime, client):
        assert client.post(RELOAD).status_code == 401
        case_manager = operator_headers(runtime, client, ("case-manager",))
        response = client.post(RELOAD, headers=case_manager)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"


def test_reload_without_changes_keeps_the_revision(policies_copy: Path, tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, policies_dir=policies_copy)
    with gateway_with_decide_route(settings) as (runtime, client):
        response = client.post(RELOAD, headers=operator_headers(runtime, client, ("operator",)))
        assert response.status_code == 200
        assert response.json()["changed"] is False
        assert response.json()["new_revision"] == runtime.policy_engine.revision


def _reload_refusals(runtime: Runtime) -> list[AuditEntry]:
    with transaction(runtime.sessions) as session:
        return list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "policy.reload", AuditEntry.outcome == "error"
                )
            )
        )


@pytest.mark.parametrize("engine_kind", ["embedded", "opa"])
def test_a_bundle_that_loads_but_cannot_decide_is_refused_and_the_old_stays(
    engine_kind: str, request: pytest.FixtureRequest, policies_copy: Path, tmp_path: Path
) -> None:
    opa_url = request.getfixturevalue("opa_process").url if engine_kind == "opa" else None
    settings = gateway_settings(
        tmp_path, engine=engine_kind, opa_url=opa_url, policies_dir=policies_copy
    )
    with gateway_with_decide_route(settings) as (runtime, client):
        headers = operator_headers(runtime, client, ("operator",))
        old_revision = runtime.policy_engine.revision
        conflicting_decision(policies_copy)

        response = client.post(RELOAD, headers=headers)

        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["file"] == "probes.json"
        assert "no decision" in problem["error"]
        assert problem["policy_revision"] == old_revision
        assert runtime.policy_engine.revision == old_revision
        decision = client.post("/test/decide", json=CONTRACT_EXAMPLE)
        assert decision.status_code == 200 and decision.json()["allow"]
        assert client.get("/readyz").status_code == 200
        refusals = _reload_refusals(runtime)
        assert len(refusals) == 1 and refusals[0].policy_revision == old_revision


def test_a_bundle_that_decides_otherwise_than_its_probes_is_refused(
    policies_copy: Path, tmp_path: Path
) -> None:
    settings = gateway_settings(tmp_path, policies_dir=policies_copy)
    with gateway_with_decide_route(settings) as (runtime, client):
        headers = operator_headers(runtime, client, ("operator",))
        old_revision = runtime.policy_engine.revision
        without_care_involvement(policies_copy)
        expect(policies_copy, "consented-category-only", allow=True,
               categories=["care.involvement"], codes={})  # fmt: skip

        response = client.post(RELOAD, headers=headers)

        assert response.status_code == 422, response.text
        assert "consented-category-only" in response.json()["error"]
        assert runtime.policy_engine.revision == old_revision
        assert "care.involvement" in runtime.catalogue.purposes["reintegration"]


def test_a_bundle_whose_own_tests_fail_is_refused_when_opa_is_configured(
    opa_binary: Path, policies_copy: Path, tmp_path: Path
) -> None:
    settings = gateway_settings(tmp_path, policies_dir=policies_copy).model_copy(
        update={"opa_binary": opa_binary}
    )
    with gateway_with_decide_route(settings) as (runtime, client):
        headers = operator_headers(runtime, client, ("operator",))
        old_revision = runtime.policy_engine.revision
        (policies_copy / "schakel/disclosure/extra_test.rego").write_text(
            "package schakel.disclosure_test\n\nimport data.schakel.disclosure\n\n"
            "test_always_fails if {\n\tdisclosure.decision.allow with input as {}\n}\n"
        )
        (policies_copy / "schakel/disclosure/disclosure.rego").write_text(
            (policies_copy / "schakel/disclosure/disclosure.rego").read_text() + "\n"
        )

        response = client.post(RELOAD, headers=headers)

        assert response.status_code == 422, response.text
        assert "opa test failed" in response.json()["error"]
        assert runtime.policy_engine.revision == old_revision

"""The probes kept with the policies hold on both engines, and readiness decides them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gateway.policy.bundle import DEFAULT_POLICY_DIR
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.opa_server import OpaServerEngine
from gateway.policy.probes import failures, load_probes
from tests.policy.gateway_app import gateway_settings, gateway_with_decide_route


def test_the_repository_probes_hold_on_the_embedded_engine(embedded: EmbeddedEngine) -> None:
    probes = load_probes(DEFAULT_POLICY_DIR)
    assert len(probes) >= 5
    assert failures(probes, embedded.decide) == []


def test_the_repository_probes_hold_on_an_opa_server(opa: OpaServerEngine) -> None:
    assert failures(load_probes(DEFAULT_POLICY_DIR), opa.decide) == []


def test_a_probe_that_expects_otherwise_reports_what_was_decided(
    embedded: EmbeddedEngine,
) -> None:
    probe = dataclasses.replace(load_probes(DEFAULT_POLICY_DIR)[0], allow=False, categories=())
    failure = probe.failure(embedded.decide)
    assert failure is not None and "decided allow=True" in failure


def test_readiness_fails_when_the_engine_decides_a_probe_otherwise(tmp_path: Path) -> None:
    with gateway_with_decide_route(gateway_settings(tmp_path)) as (runtime, client):
        assert client.get("/readyz").status_code == 200
        runtime.probes = [dataclasses.replace(runtime.probes[0], allow=False, categories=())]
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "probes" in response.json()["checks"]["policy_engine"]

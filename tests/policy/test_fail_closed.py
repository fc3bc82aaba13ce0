"""An engine that errs, times out, answers off-contract or is stopped mid-run denies with a 503."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.policy.bundle import PolicyBundle
from gateway.policy.engine import PolicyEngineUnavailable
from gateway.policy.opa_server import OpaServerEngine
from tests.policy.gateway_app import CONTRACT_EXAMPLE, gateway_settings, gateway_with_decide_route
from tests.policy.opa_process import OpaProcess, free_port


def assert_policy_engine_unavailable(response: object) -> None:
    assert response.status_code == 503, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["reason"] == "policy-engine-unavailable"
    assert body["type"].endswith("/policy-engine-unavailable")
    assert "127.0.0.1" not in body["detail"] and "OPA" not in body["detail"]
    assert body["trace_id"]


def test_unreachable_engine_is_a_503_deny(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, engine="opa", opa_url=f"http://127.0.0.1:{free_port()}")
    with gateway_with_decide_route(settings) as (_, client):
        assert_policy_engine_unavailable(client.post("/test/decide", json=CONTRACT_EXAMPLE))


def test_engine_that_does_not_answer_in_time_fails_closed(
    hanging_opa: str, bundle: PolicyBundle
) -> None:
    engine = OpaServerEngine(hanging_opa, bundle, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(PolicyEngineUnavailable, match="did not decide"):
        engine.decide(CONTRACT_EXAMPLE)
    assert time.monotonic() - started < 1.0
    engine.close()


def test_timeout_is_the_configured_one(tmp_path: Path, hanging_opa: str) -> None:
    settings = gateway_settings(
        tmp_path, engine="opa", opa_url=hanging_opa, opa_timeout_seconds=0.3
    )
    with gateway_with_decide_route(settings) as (_, client):
        started = time.monotonic()
        assert_policy_engine_unavailable(client.post("/test/decide", json=CONTRACT_EXAMPLE))
        assert 0.3 <= time.monotonic() - started < 1.5


def test_result_off_contract_fails_closed(
    opa_process: OpaProcess, policies_copy: Path, tmp_path: Path
) -> None:
    (policies_copy / "schakel/disclosure/disclosure.rego").write_text(
        'package schakel.disclosure\n\ndecision := {"allow": true, "categories": []}\n'
    )
    settings = gateway_settings(
        tmp_path, engine="opa", opa_url=opa_process.url, policies_dir=policies_copy
    )
    with gateway_with_decide_route(settings) as (runtime, client):
        assert runtime.policy_engine.ready()  # OPA holds these policies and answers
        assert_policy_engine_unavailable(client.post("/test/decide", json=CONTRACT_EXAMPLE))


def test_opa_restarted_empty_fails_closed_and_recovers_without_a_probe(
    opa_process: OpaProcess, tmp_path: Path
) -> None:
    settings = gateway_settings(tmp_path, engine="opa", opa_url=opa_process.url)
    with gateway_with_decide_route(settings) as (runtime, client):
        served = client.post("/test/decide", json=CONTRACT_EXAMPLE)
        assert served.status_code == 200, served.text
        assert served.json()["policy_revision"] == runtime.policy_engine.revision

        opa_process.kill()
        started = time.monotonic()
        assert_policy_engine_unavailable(client.post("/test/decide", json=CONTRACT_EXAMPLE))
        failed_after = time.monotonic() - started
        assert failed_after < 0.5
        assert client.get("/readyz").status_code == 503

        opa_process.start()  # the same port, empty: the policies are gone with the process
        assert_policy_engine_unavailable(client.post("/test/decide", json=CONTRACT_EXAMPLE))
        started = time.monotonic()
        again = client.post("/test/decide", json=CONTRACT_EXAMPLE)
        while again.status_code != 200 and time.monotonic() - started < 10:
            time.sleep(0.05)  # the engine pushes the policies again by itself: no probe needed
            again = client.post("/test/decide", json=CONTRACT_EXAMPLE)
        resynced_after = time.monotonic() - started
        assert again.status_code == 200, again.text
        assert again.json() == served.json()
        assert client.get("/readyz").status_code == 200
        print(
            f"OPA stopped: 503 after {failed_after * 1000:.0f} ms; re-synced in {resynced_after * 1000:.0f} ms"
        )


def test_readiness_probe_never_pushes_the_policies(opa_process: OpaProcess, tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, engine="opa", opa_url=opa_process.url)
    with gateway_with_decide_route(settings) as (runtime, client):
        assert client.get("/readyz").status_code == 200
        opa_process.kill()
        opa_process.start()  # empty: no decision has asked since
        for _ in range(3):
            assert client.get("/readyz").status_code == 503
            time.sleep(0.5)
        assert runtime.policy_engine.ready() is False

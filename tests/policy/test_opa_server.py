"""The OPA server engine: sync, revision check, and failing closed when OPA is away."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gateway.policy.bundle import PolicyBundle
from gateway.policy.engine import PolicyEngineUnavailable
from gateway.policy.opa_server import OpaServerEngine
from tests.policy.conftest import HangingOpa

CONTRACT_EXAMPLE: dict[str, Any] = json.loads(
    (
        Path(__file__).resolve().parents[1] / "vectors/decisions/contract-example.input.json"
    ).read_text()
)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_opa_fails_closed_quickly(bundle: PolicyBundle) -> None:
    engine = OpaServerEngine(f"http://127.0.0.1:{_closed_port()}", bundle, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(PolicyEngineUnavailable):
        engine.decide(CONTRACT_EXAMPLE)
    assert time.monotonic() - started < 1.0
    assert not engine.ready()
    engine.close()


def test_sync_to_unreachable_opa_raises(bundle: PolicyBundle) -> None:
    engine = OpaServerEngine(f"http://127.0.0.1:{_closed_port()}", bundle, timeout=0.2)
    with pytest.raises(PolicyEngineUnavailable, match="cannot sync"):
        engine.sync()


def test_url_must_be_http(bundle: PolicyBundle) -> None:
    with pytest.raises(ValueError, match="http"):
        OpaServerEngine("opa:8181", bundle)


@pytest.mark.opa
def test_synced_opa_decides_design_example(opa: OpaServerEngine) -> None:
    assert opa.ready()
    decision = opa.decide(CONTRACT_EXAMPLE)
    assert decision.categories == ["care.involvement"]
    assert decision.policy_revision == opa.revision


@pytest.mark.opa
def test_sync_is_repeatable(opa: OpaServerEngine) -> None:
    opa.sync()
    opa.sync()
    assert opa.ready()


@pytest.mark.opa
def test_revision_mismatch_is_not_ready(opa: OpaServerEngine, bundle: PolicyBundle) -> None:
    assert opa.ready()
    opa_server_url = f"http://{opa._revisions.host}:{opa._revisions.port}"
    # Another release: one policy text differs, and so does the revision.
    changed = {path: text + "\n# another release\n" for path, text in bundle.policies.items()}
    other_release = OpaServerEngine(
        opa_server_url, replace(bundle, policies=changed, revision="sha256:" + "0" * 64)
    )
    assert not other_release.ready()
    other_release.close()


def test_the_time_out_runs_from_the_requests_arrival(
    bundle: PolicyBundle, stuck_opa: HangingOpa
) -> None:
    engine = OpaServerEngine(stuck_opa.url, bundle, timeout=0.8)
    started = time.monotonic()
    with pytest.raises(PolicyEngineUnavailable, match="did not decide") as asked:
        engine.decide(CONTRACT_EXAMPLE, arrived=started - 0.6)
    assert asked.value.kind == "timeout"
    assert time.monotonic() - started < 0.6  # what was left of 0.8 s, not another 0.8 s
    with pytest.raises(PolicyEngineUnavailable, match="not asked") as late:
        engine.decide(CONTRACT_EXAMPLE, arrived=time.monotonic() - 0.9)
    assert late.value.kind == "timeout"
    assert stuck_opa.decisions_asked == 1
    # Its own wait is no failure of OPA's: after one failure the breaker still lets one through.
    with pytest.raises(PolicyEngineUnavailable, match="did not decide"):
        engine.decide(CONTRACT_EXAMPLE, arrived=time.monotonic() - 0.7)
    assert stuck_opa.decisions_asked == 2
    engine.close()

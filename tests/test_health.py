"""/readyz tells whether the database and the policy engine answer; the gateway fails closed."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.settings import Settings
from tests.audit.guards import lift_guards
from tests.support import SettableClock, running_gateway


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _opa_settings(tmp_path: Path, opa_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url="http://testserver",
        policy_engine="opa",  # type: ignore[arg-type]
        opa_url=opa_url,
    )


def test_ready_on_a_real_opa_server_after_pushing_the_policies(
    tmp_path: Path, opa_url: str
) -> None:
    with running_gateway(_opa_settings(tmp_path, opa_url), SettableClock()) as (runtime, client):
        response = client.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["policy_engine"] == "opa"
        assert response.json()["policy_revision"] == runtime.policy_engine.revision


def test_not_ready_when_the_policy_engine_is_down(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{_closed_port()}"
    with running_gateway(_opa_settings(tmp_path, down), SettableClock()) as (_, client):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "ok"
        assert response.json()["checks"]["policy_engine"] != "ok"


@pytest.mark.parametrize("engine", ["embedded"])
def test_ready_on_the_embedded_engine(settings: Settings, engine: str) -> None:
    with running_gateway(settings, SettableClock()) as (_, client):
        assert client.get("/readyz").json()["policy_engine"] == engine


def test_ready_reports_the_audit_guards_in_place(settings: Settings) -> None:
    with running_gateway(settings, SettableClock()) as (_, client):
        response = client.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["checks"]["audit_guards"] == "ok"


def test_not_ready_when_the_audit_guards_are_gone(settings: Settings) -> None:
    with running_gateway(settings, SettableClock()) as (runtime, client):
        lift_guards(runtime.database)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["audit_guards"].startswith("missing: audit_")
        assert "audit_entries_follow_head" in response.json()["checks"]["audit_guards"]

"""The real gateway around a chosen policy engine, with a tiny route that asks it for a decision."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.testclient import TestClient

from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.support import SettableClock, new_partner, register, running_gateway, token_request

AUDIENCE = "http://testserver/oauth/token"
CONTRACT_EXAMPLE: dict[str, Any] = json.loads(
    (
        Path(__file__).resolve().parents[1] / "vectors/decisions/contract-example.input.json"
    ).read_text()
)


def gateway_settings(
    tmp_path: Path,
    *,
    engine: str = "embedded",
    opa_url: str | None = None,
    policies_dir: Path | None = None,
    opa_timeout_seconds: float = 0.2,
) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "public_url": "http://testserver",
        "policy_engine": engine,
        "opa_timeout_seconds": opa_timeout_seconds,
    }
    if opa_url:
        values["opa_url"] = opa_url
    if policies_dir:
        values["policies_dir"] = policies_dir
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


decide_router = APIRouter()


@decide_router.post("/test/decide")
def decide(request: Request, policy_input: dict[str, Any]) -> dict[str, Any]:
    """What a disclosure will do at step 4: ask the engine, let PolicyEngineUnavailable escape."""
    runtime: Runtime = request.app.state.runtime
    return runtime.policy_engine.decide(policy_input).model_dump()


@contextmanager
def gateway_with_decide_route(settings: Settings) -> Iterator[tuple[Runtime, TestClient]]:
    with running_gateway(settings, SettableClock()) as (runtime, client):
        client.app.include_router(decide_router)  # type: ignore[attr-defined]
        yield runtime, client


def operator_headers(
    runtime: Runtime, client: TestClient, roles: tuple[str, ...]
) -> dict[str, str]:
    """A bearer token for a newly registered municipal party holding ``roles``."""
    party = new_partner(f"ops-{len(roles)}-{'-'.join(roles) or 'none'}", "gemeente", roles=roles)
    register(runtime, party)
    response = token_request(client, party.assertion(audience=AUDIENCE, now=runtime.clock()))
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}

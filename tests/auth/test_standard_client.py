"""A stock OAuth client (Authlib's private_key_jwt) gets and uses a token from a real server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey, OKPKey

from gateway.app import create_app
from gateway.core.clock import system_clock
from gateway.core.db import make_engine
from gateway.migrations.runner import upgrade_to_head
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings
from tests.support import new_partner, register


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Settings, Runtime]]:
    port = _free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url=f"http://127.0.0.1:{port}",
        port=port,
    )
    upgrade_to_head(make_engine(settings.effective_database_url))
    runtime = build_runtime(settings, clock=system_clock)
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_config=None)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert running.started, "gateway did not start"
    yield settings, runtime
    running.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_authlib_private_key_jwt_client_obtains_and_uses_a_token(
    server: tuple[Settings, Runtime], alg: str
) -> None:
    settings, runtime = server
    partner = new_partner(f"uwv-{alg.lower()}", "uwv", alg)
    register(runtime, partner)
    private_jwk = partner.key.as_dict(private=True)
    key = ECKey.import_key(private_jwk) if alg == "ES256" else OKPKey.import_key(private_jwk)

    token_endpoint = settings.token_endpoint
    # Authlib signs assertions valid for an hour by default; the gateway takes at most five minutes.
    auth_method = PrivateKeyJWT(
        token_endpoint, alg=alg, headers={"kid": key.kid}, claims={"exp": int(time.time()) + 120}
    )
    session = OAuth2Session(
        client_id=partner.party_id, client_secret=key, token_endpoint_auth_method=auth_method
    )
    token = session.fetch_token(token_endpoint, grant_type="client_credentials")
    assert token["token_type"] == "Bearer"

    me = session.get(f"{settings.public_url}/v1/whoami", timeout=5)
    assert me.status_code == 200
    assert me.json()["party"] == partner.party_id

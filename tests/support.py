"""Test helpers: a settable clock, partner identities with real keys, a running gateway."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey

from gateway.app import create_app
from gateway.auth.partner_keys import generate_partner_key
from gateway.core.db import make_engine, transaction
from gateway.migrations.runner import upgrade_to_head
from gateway.registry.service import add_party
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class SettableClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 10, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Partner:
    party_id: str
    domain: str
    key: ECKey | OKPKey
    purposes: tuple[str, ...] = ("reintegration",)
    roles: tuple[str, ...] = ()

    @property
    def alg(self) -> str:
        return str(self.key.get("alg"))

    def assertion(
        self,
        *,
        audience: str,
        now: datetime,
        lifetime: int = 60,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        body: dict[str, Any] = {
            "iss": self.party_id,
            "sub": self.party_id,
            "aud": audience,
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + lifetime,
            "jti": uuid.uuid4().hex,
        }
        body.update(claims)
        protected = {"alg": self.alg, "kid": self.key.kid, "typ": "JWT", **(header or {})}
        return jwt.encode(protected, body, self.key, algorithms=[protected["alg"]])


def new_partner(party_id: str, domain: str, alg: str = "ES256", **kwargs: Any) -> Partner:
    return Partner(party_id, domain, generate_partner_key(alg, kid=f"{party_id}-1"), **kwargs)


def register(runtime: Runtime, partner: Partner) -> None:
    with transaction(runtime.sessions) as session:
        add_party(
            session=session,
            catalogue=runtime.catalogue,
            party_id=partner.party_id,
            domain=partner.domain,
            display_name=partner.party_id.title(),
            jwks={"keys": [partner.key.as_dict(private=False)]},
            purposes=partner.purposes,
            roles=partner.roles,
            now=runtime.clock(),
        )


@contextmanager
def running_gateway(
    settings: Settings, clock: SettableClock
) -> Iterator[tuple[Runtime, TestClient]]:
    """A migrated database, the real runtime and the real app behind a TestClient."""
    engine = make_engine(settings.effective_database_url)
    upgrade_to_head(engine)
    engine.dispose()
    runtime = build_runtime(settings, clock=clock)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield runtime, client


def token_request(client: TestClient, assertion: str, **extra: str) -> Any:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }
    return client.post("/oauth/token", data=form)


def token_request_over_http(base_url: str, assertion: str) -> str:
    """An access token from the token endpoint of a gateway on a real port."""
    import httpx

    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    response = httpx.post(f"{base_url}/oauth/token", data=form, timeout=10)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


@contextmanager
def serving(settings: Settings, clock: Any = None) -> Iterator[Runtime]:
    """The real app on a real uvicorn server at ``settings.port`` on 127.0.0.1, in a thread."""
    import threading
    import time

    import uvicorn

    from gateway.core.clock import system_clock

    engine = make_engine(settings.effective_database_url)
    upgrade_to_head(engine)
    engine.dispose()
    runtime = build_runtime(settings, clock=clock or system_clock)
    config = uvicorn.Config(
        create_app(runtime), host="127.0.0.1", port=settings.port, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "gateway did not start"
    try:
        yield runtime
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

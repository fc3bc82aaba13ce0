"""A gateway on a real port with demo data and an access token for each kind of caller, for
checkers that speak HTTP from outside (schemathesis). ``python -m tests.openapi.live`` serves
one until interrupted and prints the tokens."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gateway.core.db import transaction
from gateway.demo.seed import DEMO_PARTICIPANTS, seed_demo_participants
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.support import free_port, new_partner, register, serving, token_request_over_http

# The four kinds of caller the API tells apart, each with the roles that open its operations.
PARTNER = ("uwv-leiden", "uwv", ("reintegration-advisor",))
OFFICER = ("gemeente-leiden", "gemeente", ("case-manager", "regional-privacy-officer"))
OPERATOR = ("beheer-schakel", "gemeente", ("operator",))


@dataclass(frozen=True)
class LiveGateway:
    """Where the gateway answers, and an ``Authorization`` header value per kind of caller."""

    base_url: str
    tokens: dict[str, str]
    runtime: Runtime


@contextmanager
def live_gateway(folder: Path) -> Iterator[LiveGateway]:
    """A migrated SQLite gateway in ``folder`` with demo participants, on a free local port."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=folder / "var",
        database_url=f"sqlite:///{folder / 'schakel.db'}",
        public_url=base_url,
        port=port,
        demo_login=True,
        webhook_interval_seconds=0,
        access_token_ttl_seconds=3600,
    )
    with serving(settings) as runtime:
        with transaction(runtime.sessions) as session:
            seed_demo_participants(
                session=session,
                keys=runtime.identity_keys,
                catalogue=runtime.catalogue,
                clock=runtime.clock,
            )
        tokens = {
            kind: "Bearer " + _partner_token(runtime, base_url, party, domain, roles)
            for kind, (party, domain, roles) in {
                "partner": PARTNER,
                "officer": OFFICER,
                "operator": OPERATOR,
            }.items()
        }
        participant = runtime.participants.issue_demo_token(
            DEMO_PARTICIPANTS[0].bsn, runtime.clock()
        )
        tokens["participant"] = f"Bearer {participant}"
        yield LiveGateway(base_url=base_url, tokens=tokens, runtime=runtime)


def _partner_token(
    runtime: Runtime, base_url: str, party: str, domain: str, roles: tuple[str, ...]
) -> str:
    partner = new_partner(
        party,
        domain,
        roles=roles,
        purposes=("reintegration", "case-coordination", "case-conference"),
    )
    register(runtime, partner)
    assertion = partner.assertion(audience=runtime.settings.token_endpoint, now=runtime.clock())
    return token_request_over_http(base_url, assertion)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, live_gateway(Path(folder)) as live:
        print(f"schema: {live.base_url}/openapi.json")
        for kind, header in live.tokens.items():
            print(f"{kind}: Authorization: {header}")
        threading.Event().wait()


if __name__ == "__main__":
    main()

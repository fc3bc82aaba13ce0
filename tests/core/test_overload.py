"""Overload and a failing database are a 503 with Retry-After, never a 500: the client may retry."""

from __future__ import annotations

import logging
import socket
import sqlite3
import time
from typing import Any

import pytest
from structlog.testing import capture_logs

from gateway.core.db import transaction
from gateway.identity.vault import enrol
from gateway.settings import Settings
from tests.disclosures.world import SAM, running_world
from tests.support import free_port, serving

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_write_that_cannot_get_the_sqlite_lock_in_time_is_a_503_to_retry(
    settings: Settings,
) -> None:
    quick = settings.model_copy(update={"write_wait_seconds": 0.5})
    with running_world(quick) as world:
        headers = world.issuer.headers(SAM)
        assert world.client.get("/v1/me/consents", headers=headers).status_code == 200
        database = quick.effective_database_url.removeprefix("sqlite:///")
        other_process = sqlite3.connect(database, isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")  # e.g. a long `schakel keys rotate-kek`
        try:
            started = time.monotonic()
            response = world.client.post(
                "/v1/me/consents",
                json={
                    "grantee": "uwv",
                    "purpose": "reintegration",
                    "categories": ["income.benefit"],
                },
                headers=headers,
            )
            waited = time.monotonic() - started
        finally:
            other_process.execute("ROLLBACK")
            other_process.close()
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "1"
        assert response.json()["type"].endswith("/database-unavailable")
        assert waited < 10  # the configured wait, not SQLite's default half a minute
        again = world.client.post(
            "/v1/me/consents",
            json={"grantee": "uwv", "purpose": "reintegration", "categories": ["income.benefit"]},
            headers=headers,
        )
        assert again.status_code == 201, again.text


def test_a_client_that_hangs_up_while_waiting_is_no_error_of_the_server(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    served = settings.model_copy(
        update={"write_wait_seconds": 1.0, "port": free_port(), "demo_login": True}
    )
    with capture_logs() as events, serving(served) as runtime:
        database = served.effective_database_url.removeprefix("sqlite:///")
        with transaction(runtime.sessions) as session:
            enrol(session=session, keys=runtime.identity_keys, bsn=SAM,
                  domains=runtime.catalogue.domains, now=runtime.clock())  # fmt: skip
        other_process = sqlite3.connect(database, isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")
        try:
            body = (
                b'{"grantee": "uwv", "purpose": "reintegration", "categories": ["income.benefit"]}'
            )
            token = runtime.participants.issue_demo_token(SAM, runtime.clock())
            request = (
                b"POST /v1/me/consents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: Bearer " + token.encode() + b"\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            with socket.create_connection(("127.0.0.1", served.port)) as client:
                client.sendall(request)
                time.sleep(0.2)  # it waits for the lock; the client gives up and hangs up
            answered = _answered(events, "/v1/me/consents", seconds=15)
        finally:
            other_process.execute("ROLLBACK")
            other_process.close()
    # The gateway waited its turn, answered 503 to nobody, and logged just that.
    assert [event["status"] for event in answered] == [503]
    assert [event for event in events if event["log_level"] in {"error", "critical"}] == []
    assert not any("exc_info" in event or "exception" in event for event in events)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def _answered(events: list[dict[str, Any]], path: str, *, seconds: float) -> list[dict[str, Any]]:
    """The access-log events of ``path``, once there is one (or the time is up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [e for e in events if e.get("event") == "request" and e.get("path") == path]
        if found:
            return found
        time.sleep(0.1)
    return []

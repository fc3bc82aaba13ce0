"""A release the policy engine cannot decide fails closed on record: a 503 with Retry-After and
one `monitoring.release` deny entry, nothing counted, stored or spent. Whether the engine fails
on the request (may the office receive?) or while counting its people."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import func, select

from gateway.core.db import transaction
from gateway.settings import PolicyEngineKind, Settings
from monitoring.models import Budget, Release
from tests.disclosures.world import World
from tests.monitoring.helpers import ask, bsns, monitoring_world, trajectory

UNREACHABLE = {"policy_engine": PolicyEngineKind.OPA, "opa_url": "http://127.0.0.1:9"}


def _assert_refused_on_record(world: World) -> None:
    response = ask(world)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["reason"] == "policy-engine-unavailable"
    assert body["type"].endswith("/policy-engine-unavailable")
    releases = [e for e in world.audit_entries() if e.action == "monitoring.release"]
    assert [(e.outcome, e.reason) for e in releases] == [("deny", "policy-engine-unavailable")]
    with transaction(world.runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Release)) == 0
        assert session.scalar(select(func.coalesce(func.sum(Budget.spent), 0.0))) == 0.0


def test_an_engine_that_cannot_decide_refuses_the_release_on_record(
    sqlite_settings: Settings,
) -> None:
    with monitoring_world(sqlite_settings, **UNREACHABLE) as world:
        _assert_refused_on_record(world)


class _DecidesOnce(BaseHTTPRequestHandler):
    """An OPA that lets the office receive (no request-level reason), then fails every decision."""

    def do_POST(self) -> None:
        self.server.asked += 1  # type: ignore[attr-defined]
        if self.server.asked == 1:  # type: ignore[attr-defined]
            self._answer(200, b'{"result": {"allow": false, "categories": [], "reasons": []}}')
        else:
            self._answer(500, b'{"code": "internal_error"}')

    def do_GET(self) -> None:
        self._answer(404, b"{}")

    def do_PUT(self) -> None:
        self._answer(500, b"{}")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return


@contextmanager
def _decides_once() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DecidesOnce)
    server.asked = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_engine_failing_while_counting_refuses_the_release_on_record(
    sqlite_settings: Settings,
) -> None:
    with _decides_once() as url:
        engine = {"policy_engine": PolicyEngineKind.OPA, "opa_url": url}
        with monitoring_world(sqlite_settings, **engine) as world:
            for bsn in bsns(3):
                trajectory(world, bsn, started=date(2026, 4, 1), outcome="paid-work")
            _assert_refused_on_record(world)

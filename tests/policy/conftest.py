"""Fixtures for the policy engines: the bundle, an embedded engine, OPA servers, editable policies."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gateway.policy.bundle import DEFAULT_POLICY_DIR, PolicyBundle, load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.opa_server import OpaServerEngine
from tests.policy.opa_process import OpaProcess, find_opa_binary


@pytest.fixture(scope="session")
def bundle() -> PolicyBundle:
    return load_bundle()


@pytest.fixture(scope="session")
def embedded(bundle: PolicyBundle) -> EmbeddedEngine:
    return EmbeddedEngine(bundle)


@pytest.fixture(scope="session")
def opa(opa_url: str, bundle: PolicyBundle) -> Iterator[OpaServerEngine]:
    engine = OpaServerEngine(opa_url, bundle, timeout=2.0)
    engine.sync()
    yield engine
    engine.close()


@pytest.fixture
def opa_binary() -> Path:
    return Path(find_opa_binary())


@pytest.fixture
def opa_process(tmp_path: Path) -> Iterator[OpaProcess]:
    """A running OPA server of this test's own, stopped at the end whatever the test did to it."""
    process = OpaProcess(find_opa_binary(), tmp_path)
    process.start()
    yield process
    process.kill()


@pytest.fixture
def policies_copy(tmp_path: Path) -> Path:
    """A copy of the repository's policies that a test may edit, as an operator would."""
    copy = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, copy)
    return copy


HANG_SECONDS = 2.0


class _HangingDecisions(BaseHTTPRequestHandler):
    """Refuses every sync request at once and lets every decision hang, as a stuck OPA would."""

    def do_GET(self) -> None:
        self._refuse()

    def do_PUT(self) -> None:
        self._refuse()

    def do_DELETE(self) -> None:
        self._refuse()

    def do_POST(self) -> None:
        self.server.decisions_asked += 1  # type: ignore[attr-defined]
        time.sleep(HANG_SECONDS)
        self._refuse()

    def _refuse(self) -> None:
        try:
            self.send_response(503)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"code": "unavailable"}')
        except ConnectionError:
            pass  # the client gave up waiting, which is the point

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class HangingOpa(ThreadingHTTPServer):
    """A stuck OPA on 127.0.0.1 that counts the decisions it was asked for."""

    decisions_asked = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def stuck_opa() -> Iterator[HangingOpa]:
    server = HangingOpa(("127.0.0.1", 0), _HangingDecisions)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def hanging_opa(stuck_opa: HangingOpa) -> str:
    return stuck_opa.url

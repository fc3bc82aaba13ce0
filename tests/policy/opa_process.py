"""A dedicated OPA server process for one test, which the test may kill and start again."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parents[2]
OPA_BIN_HOWTO = (
    "tests that stop and restart their own OPA server need the opa binary: set "
    "SCHAKEL_TEST_OPA_BIN, or install it into .tools/bin with scripts/provision.sh "
    "(`make test` exports SCHAKEL_TEST_OPA_BIN)"
)


def find_opa_binary() -> str:
    """As scripts/services.sh ``find_opa``: env, ``.tools/bin/opa``, PATH; skip or fail in CI."""
    for candidate in (
        os.environ.get("SCHAKEL_TEST_OPA_BIN"),
        str(ROOT / ".tools" / "bin" / "opa"),
        shutil.which("opa"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if IN_CI:
        pytest.fail(f"no opa binary in CI: {OPA_BIN_HOWTO}")
    pytest.skip(OPA_BIN_HOWTO)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OpaProcess:
    """``opa run --server`` on a fixed 127.0.0.1 port; ``kill()`` stops it hard, mid-run."""

    def __init__(self, binary: str, log_dir: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log_dir / "opa.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start on the same port as before and wait until /health answers."""
        address = f"127.0.0.1:{self.port}"
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [self.binary, "run", "--server", "--addr", address, "--log-level", "error"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass  # not listening yet
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"OPA did not start on {self.url}: {self._log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL, as a crashed sidecar: no graceful shutdown."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

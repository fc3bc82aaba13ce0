"""Frozen OPA: the OPA server stops answering for 5 s while 16 clients ask for disclosures.

The gateway (`schakel serve`, ``SCHAKEL_POLICY_ENGINE=opa``, the default time-out and cool-off)
decides with an OPA server that this benchmark starts, so that it can freeze it: SIGSTOP, which
leaves its socket accepting connections that nobody answers, the worst case for a client. wrk
records every request (one connection per client). Goal: every 503 within the policy time-out
plus 100 ms. Also counted: answers other than 200 and 503 (there should be none), and how long
after SIGCONT the first disclosure is answered again (the breaker's cool-off and one half-open
try).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import load
from common import Row, percentile
from serving import (
    DEMO_PARTICIPANTS,
    consents_and_token,
    disclosure_body,
    gateway_environment,
    load_average,
    seed_database,
    serve,
)

from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16
BEFORE, FROZEN, AFTER = 3, 5, 5  # seconds of the measured run
TIMEOUT = 0.2  # SCHAKEL_OPA_TIMEOUT_SECONDS, the default
MARGIN = 0.1


def _opa_binary() -> str | None:
    for candidate in (os.environ.get("SCHAKEL_TEST_OPA_BIN"), str(ROOT / ".tools/bin/opa"),
                      shutil.which("opa")):  # fmt: skip
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _start_opa(binary: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (folder / "opa.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            [binary, "run", "--server", "--addr", f"127.0.0.1:{port}", "--log-level", "error"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "OPA did not start"
        time.sleep(0.1)


def _analyse(samples: list[load.Sample], stopped: float, resumed: float) -> dict[str, Any]:
    refused = [s.seconds for s in samples if s.status == 503]
    answered = [s for s in samples if s.status == 200]
    others = sorted({s.status for s in samples} - {200, 503})
    back = [s.sent + s.seconds for s in answered if s.sent >= resumed]
    during = [s for s in samples if stopped <= s.sent < resumed]
    return {
        "requests": len(samples),
        "refused": len(refused),
        "refused_max_ms": max(refused, default=0.0) * 1000,
        "refused_p99_ms": percentile(refused, 0.99) * 1000 if refused else 0.0,
        "refused_p50_ms": percentile(refused, 0.50) * 1000 if refused else 0.0,
        "refused_over_goal": sum(1 for seconds in refused if seconds > TIMEOUT + MARGIN),
        "answered_before": sum(1 for s in answered if s.sent < stopped),
        "answered_during": sum(1 for s in during if s.status == 200),
        "sent_during": len(during),
        "answered_after": len(back),
        "first_answer_after_resume_s": (min(back) - resumed) if back else None,
        "answered_max_ms": max((s.seconds for s in answered), default=0.0) * 1000,
        "other_statuses": others,
        "other_count": sum(1 for s in samples if s.status not in (200, 503)),
        # The refusals over the goal: when each was sent, from SIGSTOP, and how long it took.
        "slow_refusals": [(round(s.sent - stopped, 3), round(s.seconds, 3)) for s in samples
                          if s.status == 503 and s.seconds > TIMEOUT + MARGIN],
    }  # fmt: skip


def run(postgres_url: str | None) -> tuple[list[Row], dict[str, Any]]:
    """On PostgreSQL (``postgres_url``, a throwaway database) when given, else on SQLite."""
    binary = _opa_binary()
    if not load.available() or binary is None:
        return [Row("frozen OPA", "not run (wrk or opa not installed)", "-", "-", "-", "-")], {}
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-frozen-opa-"))
    database = "PostgreSQL fsync on" if postgres_url else "SQLite"
    opa, opa_url = _start_opa(binary, folder)
    try:
        environment = {
            **gateway_environment(folder, postgres_url or f"sqlite:///{folder / 'schakel.db'}",
                                  free_port()),
            "SCHAKEL_POLICY_ENGINE": "opa", "SCHAKEL_OPA_URL": opa_url,
            "SCHAKEL_OPA_TIMEOUT_SECONDS": str(TIMEOUT),
        }  # fmt: skip
        settings = seed_database(environment)
        print(
            f"frozen OPA ({database}): gateway on {settings.public_url}, OPA {opa_url}", flush=True
        )
        with serve(environment, folder / "gateway.log"):
            token = consents_and_token(settings)
            bodies = [json.dumps(disclosure_body(demo.bsn)) for demo in DEMO_PARTICIPANTS]
            target = load.Target(settings.public_url, "/v1/disclosures", token, bodies)
            load.run(target, seconds=2, clients=CLIENTS, folder=folder, name="warm-up")
            running = load.start(target, seconds=BEFORE + FROZEN + AFTER, clients=CLIENTS,
                                 folder=folder, name="frozen", timed=True)  # fmt: skip
            time.sleep(BEFORE)
            opa.send_signal(signal.SIGSTOP)
            stopped = time.monotonic()
            try:
                time.sleep(FROZEN)
            finally:
                opa.send_signal(signal.SIGCONT)
            resumed = time.monotonic()
            found = load.finish(running)
    finally:
        opa.terminate()
        opa.wait(timeout=30)
    figures = _analyse(found.pop("samples"), stopped, resumed)
    figures.update({"database": database, "load_average": load_average(), "wrk": found})
    print(f"  frozen OPA: {figures}", flush=True)
    return _rows(database, figures), figures


def _rows(database: str, found: dict[str, Any]) -> list[Row]:
    goal_ms = (TIMEOUT + MARGIN) * 1000
    back = found["first_answer_after_resume_s"]
    return [
        Row(f"frozen OPA ({database}): slowest 503 of {found['refused']}",
            f"{found['refused_max_ms']:.0f} ms",
            f"p50 {found['refused_p50_ms']:.1f} / p99 {found['refused_p99_ms']:.0f} ms",
            f"{found['refused_over_goal']} over", f"<= {goal_ms:.0f} ms (time-out + 100 ms)",
            _met(found["refused"] > 0 and found["refused_over_goal"] == 0)),
        Row(f"frozen OPA ({database}): disclosures before / during / after the freeze",
            f"{found['answered_before']} / {found['answered_during']} / {found['answered_after']}",
            f"{found['sent_during']} sent during", "-", "-", "-"),
        Row(f"frozen OPA ({database}): first disclosure after SIGCONT",
            "none" if back is None else f"{back * 1000:.0f} ms", "cool-off 1 s", "-", "-", "-"),
        Row(f"frozen OPA ({database}): answers neither 200 nor 503", str(found["other_count"]),
            ", ".join(map(str, found["other_statuses"])) or "-", "-", "0",
            _met(found["other_count"] == 0)),
    ]  # fmt: skip


def _met(condition: bool) -> str:
    return "yes" if condition else "NO"

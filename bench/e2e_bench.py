"""End to end: POST /v1/disclosures on a real uvicorn gateway (SQLite) vs a reference endpoint.

The reference is a tiny FastAPI app (reference_app.py) on the same SQLite engine settings
(gateway.db.make_engine: WAL, synchronous=FULL, BEGIN IMMEDIATE) that validates the same request
body (gateway.disclosure.schemas.DisclosureRequest) and INSERTs one ~1 KB row in its own
transaction. Load: wrk, 16 connections (= 16 concurrent clients), 2 threads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from common import Row

from gateway.db import transaction
from gateway.demo import DEMO_PARTICIPANTS, seed_demo, seed_demo_participants
from gateway.identity.vault import enrol
from gateway.partner_keys import read_private_key, sign_client_assertion
from gateway.settings import Settings
from gateway.storage.service import store_contribution
from tests.disclosure.world import SAMPLE_FIELDS
from tests.support import free_port, serving

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CONSENTED = ["care.involvement", "care.work_readiness", "income.benefit", "work.capacity"]
ASKED = [*CONSENTED, "care.diagnosis"]
DOMAINS = {"ggz-leiden": "ggz", "uwv-leiden": "uwv", "gemeente-leiden": "gemeente"}

LUA = """
local bodies = {%(bodies)s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(token)s"}, bodies[(n %% #bodies) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH %%d %%d %%d %%d %%f %%f %%f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.duration,
    summary.errors.status, latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def _wrk(
    url: str, path: str, token: str, bodies: list[str], seconds: int, folder: Path
) -> dict[str, float]:
    script = folder / f"load-{path.strip('/').replace('/', '-')}.lua"
    quoted = ", ".join(json.dumps(body) for body in bodies)
    script.write_text(LUA % {"bodies": quoted, "path": path, "token": token})
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "5s", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    found = re.search(r"BENCH (\d+) (\d+) (\d+) (\d+) (\S+) (\S+) (\S+)", output)
    assert found, output
    requests, errors, duration_us, status_errors = (int(found[i]) for i in range(1, 5))
    return {
        "requests": requests,
        "errors": errors,
        "non_2xx": status_errors,
        "rps": requests / (duration_us / 1e6),
        "p50_ms": float(found[5]) / 1000,
        "p99_ms": float(found[6]) / 1000,
        "mean_ms": float(found[7]) / 1000,
    }


def _seed(runtime: Any, settings: Settings, base: str) -> str:
    """Demo parties and participants, data for each, consents via the API; UWV's token."""
    with transaction(runtime.sessions) as session:
        seed_demo(session=session, catalogue=runtime.catalogue, clock=runtime.clock,
                  folder=settings.data_dir / "demo")  # fmt: skip
        seed_demo_participants(session=session, keys=runtime.identity_keys,
                               catalogue=runtime.catalogue, clock=runtime.clock)  # fmt: skip
    now = datetime.now(UTC)
    for demo in DEMO_PARTICIPANTS:
        with transaction(runtime.sessions) as session:
            participant = enrol(session=session, keys=runtime.identity_keys, bsn=demo.bsn,
                                domains=runtime.catalogue.domains, now=now)  # fmt: skip
            for category, (party, fields) in SAMPLE_FIELDS.items():
                store_contribution(session=session, keks=runtime.keks,
                                   participant_id=participant.id, category=category,
                                   source_party=party, source_domain=DOMAINS[party],
                                   observed_at=now, fields=fields, now=now)  # fmt: skip
    with httpx.Client(base_url=base, timeout=10) as client:
        for demo in DEMO_PARTICIPANTS:
            login = client.post("/v1/demo/login", json={"bsn": demo.bsn})
            login.raise_for_status()
            consent = client.post(
                "/v1/me/consents",
                json={"grantee": "uwv", "purpose": "reintegration", "categories": CONSENTED},
                headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            )
            assert consent.status_code == 201, consent.text
        assertion = sign_client_assertion(
            key=read_private_key(settings.data_dir / "demo" / "uwv-leiden" / "private.jwk.json"),
            client_id="uwv-leiden", audience=settings.token_endpoint, now=datetime.now(UTC),
            lifetime=timedelta(seconds=60),
        )  # fmt: skip
        token = client.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        })  # fmt: skip
        token.raise_for_status()
        access = str(token.json()["access_token"])
        check = client.post("/v1/disclosures", json=_body(DEMO_PARTICIPANTS[0].bsn),
                            headers={"Authorization": f"Bearer {access}"})  # fmt: skip
        assert check.status_code == 200, check.text
        disclosed = sorted(item["category"] for item in check.json()["disclosed"])
        assert disclosed == sorted(CONSENTED), disclosed
    return access


def _body(bsn: str) -> dict[str, Any]:
    return {"subject": {"bsn": bsn}, "purpose": "reintegration", "categories": ASKED}


def _serve_reference(database_url: str, port: int) -> uvicorn.Server:
    from reference_app import create_reference_app

    config = uvicorn.Config(create_reference_app(database_url), host="127.0.0.1", port=port,
                            log_config=None, access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    return server


def run(seconds: int = 10) -> tuple[list[Row], dict[str, Any]]:
    if shutil.which("wrk") is None:
        return [Row("e2e: disclosures", "not run (wrk not installed)", "-", "-", "-", "-")], {}
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-e2e-"))
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=folder / "var",
        database_url=f"sqlite:///{folder / 'var' / 'schakel.db'}",
        public_url=f"http://127.0.0.1:{port}",
        port=port,
        demo_login=True,
        log_level="WARNING",
        webhook_interval_seconds=0,
    )
    bodies = [json.dumps(_body(demo.bsn)) for demo in DEMO_PARTICIPANTS]
    figures: dict[str, Any] = {}
    # The gateway logs every request to stdout (its production behaviour, kept): send that to a
    # file so the table stays readable.
    saved = os.dup(1)
    with (folder / "gateway.log").open("w") as log:
        os.dup2(log.fileno(), 1)
        try:
            with serving(settings) as runtime:
                token = _seed(runtime, settings, settings.public_url)
                _wrk(settings.public_url, "/v1/disclosures", token, bodies, 2, folder)  # warm-up
                figures["gateway"] = _wrk(
                    settings.public_url, "/v1/disclosures", token, bodies, seconds, folder
                )
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
    print(f"e2e gateway: {figures['gateway']}", flush=True)
    ref_port = free_port()
    server = _serve_reference(f"sqlite:///{folder / 'reference.db'}", ref_port)
    try:
        url = f"http://127.0.0.1:{ref_port}"
        _wrk(url, "/reference", token, bodies, 2, folder)
        figures["reference"] = _wrk(url, "/reference", token, bodies, seconds, folder)
    finally:
        server.should_exit = True
    print(f"e2e reference: {figures['reference']}", flush=True)
    gateway, reference = figures["gateway"], figures["reference"]
    ratio = gateway["rps"] / reference["rps"]
    rows = [
        Row("e2e: disclosures req/s (16 clients)", f"{gateway['rps']:.0f}/s",
            f"ref {reference['rps']:.0f}/s", f"{ratio:.2f}x", ">= 0.6x",
            "yes" if ratio >= 0.6 else "NO"),
        Row("e2e: disclosures p50", f"{gateway['p50_ms']:.1f} ms",
            f"ref {reference['p50_ms']:.1f} ms", f"{gateway['p50_ms'] / reference['p50_ms']:.2f}x",
            "-", "-"),
        Row("e2e: disclosures p99", f"{gateway['p99_ms']:.1f} ms",
            f"ref {reference['p99_ms']:.1f} ms", f"{gateway['p99_ms'] / reference['p99_ms']:.2f}x",
            "<= 25 ms", "yes" if gateway["p99_ms"] <= 25 else "NO"),
        Row("e2e: errors / non-2xx", f"{gateway['errors']}/{gateway['requests']}",
            f"ref {reference['errors']}/{reference['requests']}", "-", "0",
            "yes" if gateway["errors"] == 0 else "NO"),
    ]  # fmt: skip
    return rows, figures

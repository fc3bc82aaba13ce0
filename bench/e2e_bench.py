"""End to end: POST /v1/disclosures on a real `schakel serve` process vs a reference endpoint.

Both run as processes of their own (uvicorn, one worker), on SQLite and on PostgreSQL, loaded by
wrk with 16 and then 64 connections (= concurrent clients; the partner's token is obtained
once). The reference (reference_app.py) validates the same body and INSERTs ~1 KB in its own
transaction. The gateway's peak RSS (VmHWM) is read from /proc after its runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from common import Row

from gateway.auth.partner_keys import read_private_key, sign_client_assertion
from gateway.core.db import make_engine, transaction
from gateway.demo.seed import DEMO_PARTICIPANTS, seed_demo, seed_demo_participants
from gateway.identity.vault import enrol
from gateway.migrations.runner import upgrade_to_head
from gateway.runtime import build_runtime
from gateway.settings import Settings
from gateway.storage.service import store_contribution
from tests.disclosures.world import SAMPLE_FIELDS
from tests.support import free_port

BENCH = Path(__file__).resolve().parent
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CONSENTED = ["care.involvement", "care.work_readiness", "income.benefit", "work.capacity"]
ASKED = [*CONSENTED, "care.diagnosis"]
DOMAINS = {"ggz-leiden": "ggz", "uwv-leiden": "uwv", "gemeente-leiden": "gemeente"}
CLIENTS = (16, 64)
GOAL_RATIO = 0.6
GOAL_P99_MS = 25.0
GOAL_RSS_MIB = 150.0

LUA = """
local bodies = {%(bodies)s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(token)s", ["X-Schakel-User"] = "uwv/bench"},
    bodies[(n %% #bodies) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH %%d %%d %%d %%d %%f %%f %%f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.duration,
    summary.errors.status, latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def _wrk(url: str, path: str, token: str, bodies: list[str], seconds: int, clients: int,
         folder: Path) -> dict[str, float]:  # fmt: skip
    script = folder / f"load-{path.strip('/').replace('/', '-')}.lua"
    quoted = ", ".join(json.dumps(body) for body in bodies)
    script.write_text(LUA % {"bodies": quoted, "path": path, "token": token})
    command = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s",
               str(script), url]  # fmt: skip
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


def _settings(folder: Path, database_url: str, port: int) -> dict[str, str]:
    """The gateway's configuration, as SCHAKEL_ environment variables for `schakel serve`."""
    return {
        "SCHAKEL_DATA_DIR": str(folder / "var"),
        "SCHAKEL_DATABASE_URL": database_url,
        "SCHAKEL_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SCHAKEL_PORT": str(port),
        "SCHAKEL_DEMO_LOGIN": "true",
        "SCHAKEL_WEBHOOK_INTERVAL_SECONDS": "0",
    }


def _seed_database(environment: dict[str, str]) -> Settings:
    """Migrate; demo parties and participants with data in five categories each."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{name.removeprefix("SCHAKEL_").lower(): value for name, value in environment.items()},
    )
    engine = make_engine(settings.effective_database_url)
    upgrade_to_head(engine)
    engine.dispose()
    runtime = build_runtime(settings)
    try:
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
    finally:
        runtime.close()
    return settings


def _consent_and_token(settings: Settings) -> str:
    """Consents given through the API as each participant would; UWV's access token."""
    with httpx.Client(base_url=settings.public_url, timeout=10) as client:
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
                            headers={"Authorization": f"Bearer {access}",
                                     "X-Schakel-User": "uwv/bench"})  # fmt: skip
        assert check.status_code == 200, check.text
        disclosed = sorted(item["category"] for item in check.json()["disclosed"])
        assert disclosed == sorted(CONSENTED), disclosed
    return access


def _body(bsn: str) -> dict[str, Any]:
    return {"subject": {"bsn": bsn}, "purpose": "reintegration", "categories": ASKED}


@contextmanager
def _process(command: list[str], environment: dict[str, str], ready_url: str,
             log: Path) -> Iterator[subprocess.Popen[bytes]]:  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(command, env={**os.environ, **environment},  # noqa: S603
                                   stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"{command[0]} exited; see {log}"
            try:
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{command[0]} did not start; see {log}"
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found, status
    return int(found[1]) / 1024


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _loads(url: str, path: str, token: str, bodies: list[str], seconds: int, folder: Path,
           pid: int) -> dict[int, dict[str, float]]:  # fmt: skip
    """wrk at each client count; with the server's CPU time per request of the measured run."""
    results = {}
    for clients in CLIENTS:
        _wrk(url, path, token, bodies, 2, clients, folder)  # warm-up
        before = _cpu_seconds(pid)
        results[clients] = _wrk(url, path, token, bodies, seconds, clients, folder)
        used = _cpu_seconds(pid) - before
        results[clients]["cpu_ms_per_request"] = used * 1000 / max(results[clients]["requests"], 1)
        print(f"  {path} {clients} clients: {results[clients]}", flush=True)
    return results


def _one_database(name: str, database_url: str, reference_url: str, seconds: int,
                  folder: Path) -> dict[str, Any]:  # fmt: skip
    port = free_port()
    environment = _settings(folder, database_url, port)
    settings = _seed_database(environment)
    schakel = str(Path(sys.executable).parent / "schakel")
    bodies = [json.dumps(_body(demo.bsn)) for demo in DEMO_PARTICIPANTS]
    print(f"e2e {name}: gateway on {settings.public_url}", flush=True)
    with _process([schakel, "serve"], environment, f"{settings.public_url}/healthz",
                  folder / f"gateway-{name}.log") as gateway:  # fmt: skip
        token = _consent_and_token(settings)
        found: dict[str, Any] = {"gateway": _loads(settings.public_url, "/v1/disclosures", token,
                                                   bodies, seconds, folder, gateway.pid)}  # fmt: skip
        found["gateway_peak_rss_mib"] = _peak_rss_mib(gateway.pid)
    reference_port = free_port()
    base = f"http://127.0.0.1:{reference_port}"
    command = [sys.executable, str(BENCH / "reference_app.py"), reference_url, str(reference_port)]
    with _process(command, {}, f"{base}/docs", folder / f"reference-{name}.log") as reference:
        found["reference"] = _loads(base, "/reference", token, bodies, seconds, folder,
                                    reference.pid)  # fmt: skip
    return found


def _rows(name: str, found: dict[str, Any]) -> list[Row]:
    rows = []
    for clients in CLIENTS:
        gateway, reference = found["gateway"][clients], found["reference"][clients]
        ratio = gateway["rps"] / reference["rps"]
        p99_goal = clients == 16 and name == "SQLite"
        rows += [
            Row(f"e2e {name}: disclosures/s, {clients} clients", f"{gateway['rps']:.0f}/s",
                f"ref {reference['rps']:.0f}/s", f"{ratio:.2f}x", f">= {GOAL_RATIO}x",
                "yes" if ratio >= GOAL_RATIO else "NO"),
            Row(f"e2e {name}: p50, {clients} clients", f"{gateway['p50_ms']:.1f} ms",
                f"ref {reference['p50_ms']:.1f} ms",
                f"{gateway['p50_ms'] / reference['p50_ms']:.2f}x", "-", "-"),
            Row(f"e2e {name}: p99, {clients} clients", f"{gateway['p99_ms']:.1f} ms",
                f"ref {reference['p99_ms']:.1f} ms",
                f"{gateway['p99_ms'] / reference['p99_ms']:.2f}x",
                f"<= {GOAL_P99_MS:.0f} ms" if p99_goal else "-",
                ("yes" if gateway["p99_ms"] <= GOAL_P99_MS else "NO") if p99_goal else "-"),
            Row(f"e2e {name}: CPU per request, {clients} clients",
                f"{gateway['cpu_ms_per_request']:.2f} ms",
                f"ref {reference['cpu_ms_per_request']:.2f} ms",
                f"{gateway['cpu_ms_per_request'] / reference['cpu_ms_per_request']:.2f}x", "-", "-"),
            Row(f"e2e {name}: errors, {clients} clients",
                f"{gateway['errors']} of {gateway['requests']}",
                f"ref {reference['errors']} of {reference['requests']}", "-", "0",
                "yes" if gateway["errors"] == 0 else "NO"),
        ]  # fmt: skip
    rss = found["gateway_peak_rss_mib"]
    rows.append(Row(f"e2e {name}: gateway peak RSS", f"{rss:.0f} MiB", "-", "-",
                    f"<= {GOAL_RSS_MIB:.0f} MiB", "yes" if rss <= GOAL_RSS_MIB else "NO"))  # fmt: skip
    return rows


def run(postgres_url: str | None, seconds: int = 10) -> tuple[list[Row], dict[str, Any]]:
    """Both databases when PostgreSQL is at hand; ``postgres_url`` names a throwaway database."""
    if shutil.which("wrk") is None:
        return [Row("e2e: disclosures", "not run (wrk not installed)", "-", "-", "-", "-")], {}
    figures: dict[str, Any] = {}
    rows: list[Row] = []
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-e2e-"))
    sqlite = folder / "sqlite"
    sqlite.mkdir()
    figures["sqlite"] = _one_database("SQLite", f"sqlite:///{sqlite / 'var' / 'schakel.db'}",
                                      f"sqlite:///{sqlite / 'reference.db'}", seconds, sqlite)  # fmt: skip
    rows += _rows("SQLite", figures["sqlite"])
    if postgres_url:
        postgres = folder / "postgresql"
        postgres.mkdir()
        figures["postgresql"] = _one_database("PostgreSQL", postgres_url, postgres_url, seconds,
                                              postgres)  # fmt: skip
        rows += _rows("PostgreSQL", figures["postgresql"])
    else:
        rows.append(Row("e2e PostgreSQL", "not run (no PostgreSQL)", "-", "-", "-", "-"))
    return rows, figures

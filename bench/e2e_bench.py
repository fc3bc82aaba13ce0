"""End to end: POST /v1/disclosures on a real `schakel serve` process vs a reference endpoint.

Both run as processes of their own (uvicorn, one worker), on SQLite, on PostgreSQL as production
runs it (fsync and synchronous_commit on) and, beside it, on the throwaway server of the tests
(fsync off), loaded by wrk with 16 and then 64 connections (= concurrent clients; the partner's
token is obtained once). The reference (reference_app.py) validates the same body and INSERTs
~1 KB in its own transaction. The gateway's peak RSS (VmHWM) is read from /proc after its runs.
Goals are ratios within the run: throughput against the reference's, the p50 against the
reference's p50, the p99 against the gateway's own p50.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import load
from common import Row
from serving import (
    DEMO_PARTICIPANTS,
    consents_and_token,
    cpu_seconds,
    disclosure_body,
    gateway_environment,
    load_average,
    peak_rss_mib,
    running,
    seed_database,
    serve,
)

from tests.support import free_port

BENCH = Path(__file__).resolve().parent
CLIENTS = (16, 64)
GOAL_CLIENTS = 16
# Throughput at 16 clients against the reference's, per database with a goal.
GOAL_RATIO = {"SQLite": 1.0, "PostgreSQL fsync on": 1.5}
GOAL_P50_OF_REFERENCE = 1.5
GOAL_P99_OF_OWN_P50 = 1.5
GOAL_RSS_MIB = 150.0


def _load(target: load.Target, clients: int, seconds: int, folder: Path,
          pid: int) -> dict[str, Any]:  # fmt: skip
    """wrk after a warm-up; with the server's CPU time per request of the measured run."""
    load.run(target, seconds=2, clients=clients, folder=folder, name="warm-up")
    before = cpu_seconds(pid)
    found = load.run(target, seconds=seconds, clients=clients, folder=folder, name=f"{clients}")
    found["cpu_ms_per_request"] = (cpu_seconds(pid) - before) * 1000 / max(found["requests"], 1)
    found["load_average"] = load_average()
    print(f"  {target.path} {clients} clients: {found}", flush=True)
    return found


def _one_database(name: str, database_url: str, reference_url: str, seconds: int,
                  folder: Path) -> dict[str, Any]:  # fmt: skip
    """Gateway and reference both running; at each client count the one, then the other, so
    that the machine's drift within minutes hits the two alike."""
    environment = gateway_environment(folder, database_url, free_port())
    settings = seed_database(environment)
    bodies = [json.dumps(disclosure_body(demo.bsn)) for demo in DEMO_PARTICIPANTS]
    base = f"http://127.0.0.1:{free_port()}"
    command = [sys.executable, str(BENCH / "reference_app.py"), reference_url,
               base.rsplit(":", 1)[1]]  # fmt: skip
    print(f"e2e {name}: gateway on {settings.public_url}, reference on {base}", flush=True)
    found: dict[str, Any] = {"gateway": {}, "reference": {}}
    with (serve(environment, folder / "gateway.log") as gateway,
          running(command, {}, f"{base}/docs", folder / "reference.log") as reference):  # fmt: skip
        token = consents_and_token(settings)
        targets = {
            "gateway": (load.Target(settings.public_url, "/v1/disclosures", token, bodies),
                        gateway.pid),
            "reference": (load.Target(base, "/reference", token, bodies), reference.pid),
        }  # fmt: skip
        for clients in CLIENTS:
            for which, (target, pid) in targets.items():
                found[which][clients] = _load(target, clients, seconds, folder, pid)
        found["gateway_peak_rss_mib"] = peak_rss_mib(gateway.pid)
    return found


def _rows(name: str, found: dict[str, Any]) -> list[Row]:
    rows = []
    for clients in CLIENTS:
        gateway, reference = found["gateway"][clients], found["reference"][clients]
        ratio = gateway["rps"] / reference["rps"]
        p50_ratio = gateway["p50_ms"] / reference["p50_ms"]
        tail = gateway["p99_ms"] / gateway["p50_ms"]
        goals = clients == GOAL_CLIENTS and name in GOAL_RATIO
        goal_ratio = GOAL_RATIO.get(name, 0.0)
        rows += [
            Row(f"e2e {name}: disclosures/s, {clients} clients", f"{gateway['rps']:.0f}/s",
                f"ref {reference['rps']:.0f}/s", f"{ratio:.2f}x",
                f">= {goal_ratio}x ref" if goals else "-",
                _met(ratio >= goal_ratio) if goals else "-"),
            Row(f"e2e {name}: p50, {clients} clients", f"{gateway['p50_ms']:.1f} ms",
                f"ref {reference['p50_ms']:.1f} ms", f"{p50_ratio:.2f}x",
                f"<= {GOAL_P50_OF_REFERENCE}x ref" if goals else "-",
                _met(p50_ratio <= GOAL_P50_OF_REFERENCE) if goals else "-"),
            Row(f"e2e {name}: p99, {clients} clients", f"{gateway['p99_ms']:.1f} ms",
                f"own p50 {gateway['p50_ms']:.1f} ms (ref p99 {reference['p99_ms']:.1f} ms)",
                f"{tail:.2f}x", f"<= {GOAL_P99_OF_OWN_P50}x own p50" if goals else "-",
                _met(tail <= GOAL_P99_OF_OWN_P50) if goals else "-"),
            Row(f"e2e {name}: CPU per request, {clients} clients",
                f"{gateway['cpu_ms_per_request']:.2f} ms",
                f"ref {reference['cpu_ms_per_request']:.2f} ms",
                f"{gateway['cpu_ms_per_request'] / reference['cpu_ms_per_request']:.2f}x", "-", "-"),
            Row(f"e2e {name}: errors, {clients} clients",
                f"{gateway['errors']} of {gateway['requests']}",
                f"ref {reference['errors']} of {reference['requests']}", "-", "0",
                _met(gateway["errors"] == 0)),
        ]  # fmt: skip
    rss = found["gateway_peak_rss_mib"]
    rows.append(Row(f"e2e {name}: gateway peak RSS", f"{rss:.0f} MiB", "-", "-",
                    f"<= {GOAL_RSS_MIB:.0f} MiB", _met(rss <= GOAL_RSS_MIB)))  # fmt: skip
    return rows


def _met(condition: bool) -> str:
    return "yes" if condition else "NO"


def run(postgres_urls: dict[str, str], seconds: int = 10) -> tuple[list[Row], dict[str, Any]]:
    """SQLite, then each PostgreSQL of ``postgres_urls`` (a name and a throwaway database)."""
    if not load.available():
        return [Row("e2e: disclosures", "not run (wrk not installed)", "-", "-", "-", "-")], {}
    figures: dict[str, Any] = {}
    rows: list[Row] = []
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-e2e-"))
    sqlite = folder / "sqlite"
    sqlite.mkdir()
    figures["SQLite"] = _one_database("SQLite", f"sqlite:///{sqlite / 'var' / 'schakel.db'}",
                                      f"sqlite:///{sqlite / 'reference.db'}", seconds, sqlite)  # fmt: skip
    rows += _rows("SQLite", figures["SQLite"])
    for name, url in postgres_urls.items():
        postgres = folder / name.replace(" ", "-")
        postgres.mkdir()
        figures[name] = _one_database(name, url, url, seconds, postgres)
        rows += _rows(name, figures[name])
    if not postgres_urls:
        rows.append(Row("e2e PostgreSQL", "not run (no PostgreSQL)", "-", "-", "-", "-"))
    return rows, figures

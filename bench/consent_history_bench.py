"""Consent history: one disclosure about a participant with 1,000 consent versions against one
about a participant with a single version, on a real `schakel serve` process.

The gateway runs as in e2e_bench (one uvicorn worker, SQLite and then PostgreSQL). Each demo
participant gives the same consent through /v1/me/consents; one of them then amends it 999
times, as a participant changing their mind in the portal does, so that it has 1,000 versions,
999 of them closed. UWV then asks about the two in turn, one request at a time (each disclosure
is a batch of its own), and the ratio of the p50s is the figure: the goal is within 2x.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import Row, percentile
from serving import (
    CONSENTED,
    consents_and_token,
    disclosure_body,
    gateway_environment,
    seed_database,
    serve,
)

from gateway.demo.seed import DEMO_PARTICIPANTS
from tests.support import free_port

VERSIONS = 1000
GOAL_RATIO = 2.0
LIGHT, HEAVY = DEMO_PARTICIPANTS[0].bsn, DEMO_PARTICIPANTS[1].bsn


def give_versions(base_url: str, bsn: str, versions: int) -> float:
    """Amend the participant's one consent until it has ``versions`` versions, through the API;
    the last has the categories of the first. Returns the seconds that took."""
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        login = client.post("/v1/demo/login", json={"bsn": bsn})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        (current,) = [
            consent["id"]
            for consent in client.get("/v1/me/consents", headers=headers).json()
            if consent["status"] == "active"
        ]
        for version in range(2, versions + 1):
            # Narrow and widen in turn; the last version (an even count) is the full consent.
            categories = CONSENTED if version % 2 == 0 else CONSENTED[:-1]
            amended = client.post(f"/v1/me/consents/{current}/amendments",
                                  json={"categories": categories}, headers=headers)  # fmt: skip
            assert amended.status_code == 201, amended.text
            current = amended.json()["id"]
        listed = client.get("/v1/me/consents", headers=headers).json()
        assert len(listed) == versions, len(listed)
        assert [c["categories"] for c in listed if c["status"] == "active"] == [sorted(CONSENTED)]
    return time.perf_counter() - started


def _alternate(base_url: str, token: str, rounds: int) -> dict[str, list[float]]:
    """Sequential disclosures, light and heavy in turn, so drift of the machine hits both."""
    bodies = {name: disclosure_body(bsn) for name, bsn in (("light", LIGHT), ("heavy", HEAVY))}
    latencies: dict[str, list[float]] = {"light": [], "heavy": []}
    headers = {"Authorization": f"Bearer {token}", "X-Schakel-User": "uwv/bench"}
    with httpx.Client(base_url=base_url, timeout=30, headers=headers) as client:
        for name, body in bodies.items():  # both answer alike: four categories disclosed
            answer = client.post("/v1/disclosures", json=body)
            assert answer.status_code == 200, answer.text
            disclosed = sorted(item["category"] for item in answer.json()["disclosed"])
            assert disclosed == sorted(CONSENTED), (name, disclosed)
        for round_ in range(rounds + rounds // 10):  # the first tenth warms up
            for name, body in bodies.items():
                started = time.perf_counter()
                answer = client.post("/v1/disclosures", json=body)
                elapsed = time.perf_counter() - started
                assert answer.status_code == 200, answer.text
                if round_ >= rounds // 10:
                    latencies[name].append(elapsed)
    return latencies


def _one_database(name: str, database_url: str, rounds: int, folder: Path) -> dict[str, Any]:
    environment = gateway_environment(folder, database_url, free_port())
    settings = seed_database(environment)
    print(f"consent history {name}: gateway on {settings.public_url}", flush=True)
    with serve(environment, folder / f"gateway-{name}.log"):
        token = consents_and_token(settings)
        seeding_s = give_versions(settings.public_url, HEAVY, VERSIONS)
        latencies = _alternate(settings.public_url, token, rounds)
    found: dict[str, Any] = {"versions": VERSIONS, "rounds": rounds, "seeding_s": seeding_s}
    for which, samples in latencies.items():
        found[which] = {
            "p50_ms": percentile(samples, 0.50) * 1000,
            "p99_ms": percentile(samples, 0.99) * 1000,
            "mean_ms": sum(samples) / len(samples) * 1000,
        }
    found["ratio_p50"] = found["heavy"]["p50_ms"] / found["light"]["p50_ms"]
    print(f"  {json.dumps(found)}", flush=True)
    return found


def _rows(name: str, found: dict[str, Any]) -> list[Row]:
    heavy, light, ratio = found["heavy"], found["light"], found["ratio_p50"]
    return [
        Row(f"consent history {name}: disclosure p50, {VERSIONS:,} versions",
            f"{heavy['p50_ms']:.2f} ms", f"1 version {light['p50_ms']:.2f} ms", f"{ratio:.2f}x",
            f"<= {GOAL_RATIO:.0f}x", "yes" if ratio <= GOAL_RATIO else "NO"),
        Row(f"consent history {name}: disclosure p99, {VERSIONS:,} versions",
            f"{heavy['p99_ms']:.2f} ms", f"1 version {light['p99_ms']:.2f} ms",
            f"{heavy['p99_ms'] / light['p99_ms']:.2f}x", "-", "-"),
    ]  # fmt: skip


def run(postgres_url: str | None, rounds: int = 300) -> tuple[list[Row], dict[str, Any]]:
    """Both databases when PostgreSQL is at hand; ``postgres_url`` names a throwaway database."""
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-consents-"))
    figures: dict[str, Any] = {}
    sqlite = folder / "sqlite"
    sqlite.mkdir()
    figures["sqlite"] = _one_database(
        "SQLite", f"sqlite:///{sqlite / 'var' / 'schakel.db'}", rounds, sqlite
    )
    rows = _rows("SQLite", figures["sqlite"])
    if postgres_url:
        postgres = folder / "postgresql"
        postgres.mkdir()
        figures["postgresql"] = _one_database("PostgreSQL", postgres_url, rounds, postgres)
        rows += _rows("PostgreSQL", figures["postgresql"])
    else:
        rows.append(
            Row("consent history PostgreSQL", "not run (no PostgreSQL)", "-", "-", "-", "-")
        )
    return rows, figures

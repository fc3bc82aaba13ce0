"""Policy decisions: the embedded regorus engine vs an OPA server over REST, same input.

Goal: the embedded engine at least 20x faster than the OPA server, at p50 and at p99, both
measured in the same run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from common import Row, summary

from gateway.policy.bundle import load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.opa_server import OpaServerEngine

GOAL_RATIO = 20
INPUT = Path(__file__).parent.parent / "tests/vectors/decisions/contract-example.input.json"


def _time(engine: Any, policy_input: dict[str, Any], n: int) -> list[float]:
    for _ in range(min(200, n)):  # warm-up: connection pool, caches
        engine.decide(policy_input)
    latencies = []
    clock = time.perf_counter
    for _ in range(n):
        start = clock()
        engine.decide(policy_input)
        latencies.append(clock() - start)
    return latencies


def run(opa_url: str | None, n: int = 2000) -> tuple[list[Row], dict[str, Any]]:
    policy_input = json.loads(INPUT.read_text())
    bundle = load_bundle()
    embedded = EmbeddedEngine(bundle)
    try:
        decision = embedded.decide(policy_input)
        emb = summary(_time(embedded, policy_input, n))
    finally:
        embedded.close()
    figures: dict[str, Any] = {"embedded": emb, "decision_allow": decision.allow}
    print(
        f"policy embedded: p50 {emb['p50_us']:.1f} us, p99 {emb['p99_us']:.1f} us, "
        f"{emb['per_s']:.0f} decisions/s (N={n})",
        flush=True,
    )
    rows = [
        Row(
            "policy: embedded p50",
            f"{emb['p50_us']:.1f} us",
            "-",
            "-",
            "-",
            "-",
        )
    ]
    if opa_url is None:
        rows.append(Row("policy: OPA server", "not run (no OPA)", "-", "-", "-", "-"))
        return rows, figures
    opa = OpaServerEngine(opa_url, bundle, timeout=2.0)
    try:
        opa.sync()
        same = opa.decide(policy_input)
        assert same.allow == decision.allow, "OPA and embedded disagree"
        srv = summary(_time(opa, policy_input, n))
    finally:
        opa.close()
    figures["opa"] = srv
    print(
        f"policy OPA REST: p50 {srv['p50_us']:.1f} us, p99 {srv['p99_us']:.1f} us, "
        f"{srv['per_s']:.0f} decisions/s (N={n})",
        flush=True,
    )
    ratio = srv["p50_us"] / emb["p50_us"]
    tail_ratio = srv["p99_us"] / emb["p99_us"]
    rate_ratio = emb["per_s"] / srv["per_s"]
    rows += [
        Row(
            "policy: embedded vs OPA p50",
            f"{emb['p50_us']:.1f} us",
            f"OPA {srv['p50_us']:.1f} us",
            f"{ratio:.1f}x faster",
            f">= {GOAL_RATIO}x",
            "yes" if ratio >= GOAL_RATIO else "NO",
        ),
        Row(
            "policy: embedded vs OPA p99",
            f"{emb['p99_us']:.1f} us",
            f"OPA {srv['p99_us']:.1f} us",
            f"{tail_ratio:.1f}x faster",
            f">= {GOAL_RATIO}x",
            "yes" if tail_ratio >= GOAL_RATIO else "NO",
        ),
        Row(
            "policy: decisions/s (serial)",
            f"{emb['per_s']:.0f}/s",
            f"OPA {srv['per_s']:.0f}/s",
            f"{rate_ratio:.1f}x",
            "-",
            "-",
        ),
    ]
    return rows, figures

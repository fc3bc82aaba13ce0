"""Policy decisions: the embedded regorus engine vs an OPA server over REST, same input.

Goal: the embedded engine at least 20x faster than the OPA server, at p50 and at p99, both
measured in the same run, the two engines taking turns of 100 decisions.
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
ROUND = 100  # decisions of one engine before the other takes its turn
INPUT = Path(__file__).parent.parent / "tests/vectors/decisions/contract-example.input.json"


def _time(engine: Any, policy_input: dict[str, Any], n: int) -> list[float]:
    latencies = []
    clock = time.perf_counter
    for _ in range(n):
        start = clock()
        engine.decide(policy_input)
        latencies.append(clock() - start)
    return latencies


def _interleaved(engines: dict[str, Any], policy_input: dict[str, Any],
                 n: int) -> dict[str, list[float]]:  # fmt: skip
    """``n`` decisions by each engine, in turns of ROUND, so that both meet the machine alike."""
    for engine in engines.values():
        _time(engine, policy_input, min(200, n))  # warm-up: connection pool, caches
    samples: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(max(1, n // ROUND)):
        for name, engine in engines.items():
            samples[name] += _time(engine, policy_input, ROUND)
    return samples


def run(opa_url: str | None, n: int = 2000) -> tuple[list[Row], dict[str, Any]]:
    policy_input = json.loads(INPUT.read_text())
    bundle = load_bundle()
    engines: dict[str, Any] = {"embedded": EmbeddedEngine(bundle)}
    try:
        decision = engines["embedded"].decide(policy_input)
        if opa_url is not None:
            engines["opa"] = OpaServerEngine(opa_url, bundle, timeout=2.0)
            engines["opa"].sync()
            same = engines["opa"].decide(policy_input)
            assert same.allow == decision.allow, "OPA and embedded disagree"
        found = {name: summary(samples)
                 for name, samples in _interleaved(engines, policy_input, n).items()}  # fmt: skip
    finally:
        for engine in engines.values():
            engine.close()
    figures: dict[str, Any] = {**found, "decision_allow": decision.allow}
    for name, figure in found.items():
        print(f"policy {name}: p50 {figure['p50_us']:.1f} us, p99 {figure['p99_us']:.1f} us, "
              f"{figure['per_s']:.0f} decisions/s (N={n})", flush=True)  # fmt: skip
    emb = found["embedded"]
    rows = [Row("policy: embedded p50", f"{emb['p50_us']:.1f} us", "-", "-", "-", "-")]
    if opa_url is None:
        rows.append(Row("policy: OPA server", "not run (no OPA)", "-", "-", "-", "-"))
        return rows, figures
    srv = found["opa"]
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

"""Policy decisions: the embedded regorus engine vs an OPA server over REST, same input.

Goal: the embedded engine at least 20x faster than the OPA server, at p50 and at p99, both
measured in the same run, the two engines taking turns of ROUND decisions.

The first decision of each turn follows the other engine's turn, with the caches it left behind.
Those are a tenth of a percent of the samples, so p99 is each engine's own tail; they are
reported apart (the "first of a turn" row). With turns of 100 they were exactly one percent,
and p99 fell on them or just beside them by chance.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from common import Row, percentile, summary

from gateway.policy.bundle import load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.opa_server import OpaServerEngine

GOAL_RATIO = 20
ROUND = 1000  # decisions of one engine before the other takes its turn
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
                 n: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:  # fmt: skip
    """``n`` decisions by each engine, in turns of ROUND, so that both meet the machine alike;
    every decision's latency, and apart from them the first of each turn's."""
    for engine in engines.values():
        _time(engine, policy_input, min(200, n))  # warm-up: connection pool, caches
    samples: dict[str, list[float]] = {name: [] for name in engines}
    firsts: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(max(1, n // ROUND)):
        for name, engine in engines.items():
            turn = _time(engine, policy_input, min(ROUND, n))
            samples[name] += turn
            firsts[name].append(turn[0])
    return samples, firsts


def run(opa_url: str | None, n: int = 10_000) -> tuple[list[Row], dict[str, Any]]:
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
        samples, firsts = _interleaved(engines, policy_input, n)
        found = {name: summary(latencies) for name, latencies in samples.items()}
    finally:
        for engine in engines.values():
            engine.close()
    first_p50 = {name: percentile(latencies, 0.50) * 1e6 for name, latencies in firsts.items()}
    figures: dict[str, Any] = {
        **found,
        "first_of_turn_p50_us": first_p50,
        "round": ROUND,
        "decision_allow": decision.allow,
    }
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
            "policy: first decision of a turn, p50",
            f"{first_p50['embedded']:.1f} us",
            f"OPA {first_p50['opa']:.1f} us",
            f"{first_p50['opa'] / first_p50['embedded']:.1f}x faster",
            "-",
            "-",
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

"""Fairness: a participant with a long consent history must slow no one, themselves included.

A `schakel serve` gateway as in e2e_bench. One demo participant (the heavy one) amends their
consent 999 times through the portal's API, so that it has 1,000 versions; the two others keep
their one. Three loads, one after the other, each ``seconds`` long, in ``rounds`` rounds (so
that the machine's drift hits all three alike, each round in another order; every request is
timed and the rounds pooled):

- alone: 15 clients asking about the two ordinary participants;
- heavy: the same 15, and beside them 1 client asking about the heavy participant;
- control: the same 15, and beside them 1 client asking about an ordinary participant (what a
  16th client costs by itself).

Goals: the ordinary clients' p99 in the heavy load within 1.5x of theirs alone; the heavy
participant's p50 within 2x of the ordinary clients' p50 in the same load.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import load
from common import Row, percentile
from consent_history_bench import VERSIONS, give_versions
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

ORDINARY_CLIENTS = 15
PHASES = {"alone": None, "heavy": "heavy", "control": "control"}  # the client beside the 15
HEAVY = DEMO_PARTICIPANTS[1].bsn
ORDINARY = [DEMO_PARTICIPANTS[0].bsn, DEMO_PARTICIPANTS[2].bsn]
GOAL_P99_RATIO = 1.5
GOAL_HEAVY_RATIO = 2.0


def _targets(url: str, token: str) -> dict[str, load.Target]:
    def target(bsns: list[str]) -> load.Target:
        bodies = [json.dumps(disclosure_body(bsn)) for bsn in bsns]
        return load.Target(url, "/v1/disclosures", token, bodies)

    return {"ordinary": target(ORDINARY), "heavy": target([HEAVY]), "control": target(ORDINARY)}


def _phase(targets: dict[str, load.Target], beside: str | None, seconds: int,
           folder: Path) -> dict[str, list[load.Sample]]:  # fmt: skip
    """The 15 ordinary clients, with one client of ``beside`` running alongside (or none)."""
    ordinary = load.start(targets["ordinary"], seconds=seconds, clients=ORDINARY_CLIENTS,
                          folder=folder, name=f"ordinary-{beside}", timed=True)  # fmt: skip
    extra = None
    if beside is not None:
        extra = load.start(targets[beside], seconds=seconds, clients=1, folder=folder,
                           name=beside, timed=True)  # fmt: skip
    found = {"ordinary": load.finish(ordinary)["samples"]}
    if extra is not None and beside is not None:
        found[beside] = load.finish(extra)["samples"]
    return found


def _figures(samples: list[load.Sample], seconds: float) -> dict[str, Any]:
    latencies = [sample.seconds for sample in samples]
    return {
        "requests": len(samples),
        "errors": sum(1 for sample in samples if sample.status != 200),
        "rps": len(samples) / seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
    }


def _one_database(name: str, database_url: str, seconds: int, rounds: int,
                  folder: Path) -> dict[str, Any]:  # fmt: skip
    environment = gateway_environment(folder, database_url, free_port())
    settings = seed_database(environment)
    print(f"fairness {name}: gateway on {settings.public_url}", flush=True)
    with serve(environment, folder / "gateway.log"):
        token = consents_and_token(settings)
        seeding_s = give_versions(settings.public_url, HEAVY, VERSIONS)
        targets = _targets(settings.public_url, token)
        load.run(targets["ordinary"], seconds=2, clients=ORDINARY_CLIENTS + 1, folder=folder,
                 name="warm-up")  # fmt: skip
        pooled: dict[str, dict[str, list[load.Sample]]] = {phase: {} for phase in PHASES}
        loads = []
        order = list(PHASES)
        for turn in range(rounds):  # each load first once: what follows the seeding hits all
            for phase in order[turn % 3 :] + order[: turn % 3]:
                for client, samples in _phase(targets, PHASES[phase], seconds, folder).items():
                    pooled[phase].setdefault(client, []).extend(samples)
            loads.append(load_average())
    found: dict[str, Any] = {"versions": VERSIONS, "seeding_s": seeding_s, "rounds": rounds,
                             "seconds": seconds, "load_averages": loads}  # fmt: skip
    for phase, clients in pooled.items():
        found[phase] = {client: _figures(samples, seconds * rounds)
                        for client, samples in clients.items()}  # fmt: skip
        print(f"  {phase}: {found[phase]}", flush=True)
    alone, heavy, control = found["alone"], found["heavy"], found["control"]
    found["p99_ratio"] = heavy["ordinary"]["p99_ms"] / alone["ordinary"]["p99_ms"]
    found["control_p99_ratio"] = control["ordinary"]["p99_ms"] / alone["ordinary"]["p99_ms"]
    found["heavy_p50_ratio"] = heavy["heavy"]["p50_ms"] / heavy["ordinary"]["p50_ms"]
    found["heavy_p99_ratio"] = heavy["heavy"]["p99_ms"] / heavy["ordinary"]["p99_ms"]
    return found


def _rows(name: str, found: dict[str, Any]) -> list[Row]:
    alone, heavy, control = (found[p]["ordinary"] for p in ("alone", "heavy", "control"))
    own = found["heavy"]["heavy"]
    errors = sum(
        part["errors"] for phase in ("alone", "heavy", "control")
        for part in found[phase].values() if isinstance(part, dict)
    )  # fmt: skip
    return [
        Row(f"fairness {name}: ordinary p99, 15 + 1 heavy client", f"{heavy['p99_ms']:.1f} ms",
            f"15 alone {alone['p99_ms']:.1f} ms", f"{found['p99_ratio']:.2f}x",
            f"<= {GOAL_P99_RATIO}x alone", _met(found["p99_ratio"] <= GOAL_P99_RATIO)),
        Row(f"fairness {name}: heavy participant p50 ({VERSIONS:,} versions)",
            f"{own['p50_ms']:.1f} ms", f"ordinary {heavy['p50_ms']:.1f} ms",
            f"{found['heavy_p50_ratio']:.2f}x", f"<= {GOAL_HEAVY_RATIO:.0f}x ordinary",
            _met(found["heavy_p50_ratio"] <= GOAL_HEAVY_RATIO)),
        Row(f"fairness {name}: heavy participant p99", f"{own['p99_ms']:.1f} ms",
            f"ordinary {heavy['p99_ms']:.1f} ms", f"{found['heavy_p99_ratio']:.2f}x", "-", "-"),
        Row(f"fairness {name}: ordinary p99, 15 + 1 ordinary client (control)",
            f"{control['p99_ms']:.1f} ms", f"15 alone {alone['p99_ms']:.1f} ms",
            f"{found['control_p99_ratio']:.2f}x", "-", "-"),
        Row(f"fairness {name}: ordinary disclosures/s, alone / heavy / control",
            f"{alone['rps']:.0f} / {heavy['rps']:.0f} / {control['rps']:.0f}/s",
            f"heavy client {own['rps']:.0f}/s", "-", "-", "-"),
        Row(f"fairness {name}: errors (all clients, three loads)", str(errors), "-", "-", "0",
            _met(errors == 0)),
    ]  # fmt: skip


def _met(condition: bool) -> str:
    return "yes" if condition else "NO"


def run(postgres_url: str | None, seconds: int = 5,
        rounds: int = 3) -> tuple[list[Row], dict[str, Any]]:  # fmt: skip
    """SQLite, and PostgreSQL when ``postgres_url`` names a throwaway database."""
    if not load.available():
        return [Row("fairness", "not run (wrk not installed)", "-", "-", "-", "-")], {}
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-fairness-"))
    figures: dict[str, Any] = {}
    rows: list[Row] = []
    databases: dict[str, str | None] = {"SQLite": None}  # SQLite: a file in the gateway's folder
    if postgres_url:
        databases["PostgreSQL fsync on"] = postgres_url
    for name, url in databases.items():
        part = folder / name.replace(" ", "-")
        part.mkdir()
        url = url or f"sqlite:///{part / 'var' / 'schakel.db'}"
        figures[name] = _one_database(name, url, seconds, rounds, part)
        rows += _rows(name, figures[name])
    if not postgres_url:
        rows.append(Row("fairness PostgreSQL", "not run (no PostgreSQL)", "-", "-", "-", "-"))
    return rows, figures

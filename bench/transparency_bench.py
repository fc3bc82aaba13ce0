"""The audit log's Merkle tree: proofs through the API on a large log, and what building the tree
(and signing checkpoints at all) costs end to end.

1. Proofs: a real gateway (`schakel serve`, a process of its own) on PostgreSQL, its log filled
   to 1,000,000 entries (sealed as append_entry seals them, written with COPY) and tree
   checkpoints signed along the way. A participant asks for the inclusion proof of their own
   entries (GET /v1/me/access-log/{seq}/proof), one after another, random entries; anyone asks
   for consistency proofs between two of the checkpoints (GET /v1/audit/proofs/consistency).
   Goals: p99 <= 10 ms each. The reference beside them, in the same run, is a route that reads
   one row (GET /v1/audit/checkpoints/latest): what the machine gives any request just then.
2. Tree cost: POST /v1/disclosures with wrk (16 clients, PostgreSQL) against a gateway that
   signs tree checkpoints as configured by default (every 100 entries: the tree's nodes are kept
   and its root computed under the log's lock) and against the same gateway with checkpoints
   held off for the run. The difference is all checkpointing costs, so the tree's share is at
   most that. Goal: <= 10 % of throughput. Runs alternate, twice each, to even out drift.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import load
from audit_load_bench import _fill, _subjects
from common import Row, fresh_postgres, percentile
from serving import consents_and_token, disclosure_body, gateway_environment, seed_database, serve
from sqlalchemy import func, select

from audit.checkpoint import create_checkpoint
from audit.models import AuditCheckpoint
from audit.tree import kept_sizes
from gateway.core.db import make_engine, make_sessionmaker, read_transaction, transaction
from gateway.demo.seed import DEMO_PARTICIPANTS
from gateway.runtime import load_audit_keys
from gateway.settings import Settings
from tests.support import free_port

GOAL_PROOF_P99_MS = 10.0
GOAL_TREE_COST = 0.10
TOTAL = 1_000_000
# Tree checkpoints signed at these sizes of the log (the last is the head).
CHECKPOINTS = (250_000, 500_000, 750_000, 999_000, TOTAL)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fill_and_sign(
    settings: Settings, url: str, sizes: tuple[int, ...], subjects: list[str]
) -> dict[str, float]:
    """Fill the log to each size in turn and sign a tree checkpoint there (keeping the tree)."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    key = load_audit_keys(settings).signing_key
    timings: dict[str, float] = {"fill_seconds": 0.0, "sign_seconds": 0.0}
    for size in sizes:
        start = time.perf_counter()
        _fill(url, size, subjects)
        timings["fill_seconds"] += time.perf_counter() - start
        start = time.perf_counter()
        with transaction(sessions) as session:
            create_checkpoint(session=session, signing_key=key, clock=lambda: datetime.now(UTC),
                              origin=settings.audit_origin)  # fmt: skip
        took = time.perf_counter() - start
        timings["sign_seconds"] += took
        timings.setdefault("first_sign_seconds", took)  # the tree kept for the whole log so far
        _progress(f"transparency: checkpoint at {size:,} signed in {took:.1f} s")
    with read_transaction(sessions) as session:
        timings["kept_nodes"] = sum(kept_sizes(session).values())
    engine.dispose()
    return timings


def _participant_token(client: httpx.Client) -> str:
    login = client.post("/v1/demo/login", json={"bsn": DEMO_PARTICIPANTS[0].bsn})
    login.raise_for_status()
    return str(login.json()["access_token"])


def _timed(
    client: httpx.Client, paths: list[str], headers: dict[str, str], warm_up: int
) -> list[float]:
    samples = []
    for number, path in enumerate(paths):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        if number >= warm_up:
            samples.append(elapsed)
    return samples


def _proof_figures(
    postgres_admin_url: str, total: int, requests: int, warm_up: int
) -> dict[str, Any]:
    pg_url, drop = fresh_postgres(postgres_admin_url)
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-transparency-"))
    try:
        environment = gateway_environment(folder, pg_url, free_port())
        environment["SCHAKEL_AUDIT_CHECKPOINT_INTERVAL_SECONDS"] = "0"
        settings = seed_database(environment)
        subjects, _ = _subjects(settings, total)
        sizes = tuple(size * total // TOTAL for size in CHECKPOINTS)
        _progress(f"transparency: filling the log to {total:,} entries, checkpoints at {sizes}")
        figures: dict[str, Any] = {
            "log_entries": total,
            **_fill_and_sign(settings, pg_url, sizes, subjects),
        }
        # The participant's entries: subject 0 of the fill is theirs, every len(subjects)-th seq.
        own = list(range(len(subjects), total + 1, len(subjects)))
        rng = random.Random(7)
        with (
            serve(environment, folder / "gateway.log"),
            httpx.Client(base_url=settings.public_url, timeout=10) as client,
        ):
            headers = {"Authorization": f"Bearer {_participant_token(client)}"}
            paths = [
                f"/v1/me/access-log/{rng.choice(own)}/proof" for _ in range(warm_up + requests)
            ]
            inclusion = _timed(client, paths, headers, warm_up)
            pairs = [sorted(rng.sample(sizes, 2)) for _ in range(warm_up + requests)]
            paths = [f"/v1/audit/proofs/consistency?from={a}&to={b}" for a, b in pairs]
            consistency = _timed(client, paths, {}, warm_up)
            # A reference in the same run: a route that reads one row (the newest checkpoint).
            one_read = _timed(client, ["/v1/audit/checkpoints/latest"] * (warm_up + requests), {},
                              warm_up)  # fmt: skip
        for name, samples in (
            ("inclusion", inclusion), ("consistency", consistency), ("one_read", one_read),
        ):  # fmt: skip
            figures[name] = {
                "requests": len(samples),
                "p50_ms": percentile(samples, 0.50) * 1000,
                "p99_ms": percentile(samples, 0.99) * 1000,
                "max_ms": max(samples) * 1000,
            }
        return figures
    finally:
        drop()


def _disclosures_per_s(
    postgres_admin_url: str, checkpoints: bool, seconds: int, clients: int
) -> dict[str, float]:
    """wrk on POST /v1/disclosures against a fresh gateway; checkpoints as configured or held off."""
    pg_url, drop = fresh_postgres(postgres_admin_url)
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-tree-cost-"))
    try:
        environment = gateway_environment(folder, pg_url, free_port())
        if not checkpoints:
            environment.update({
                "SCHAKEL_AUDIT_CHECKPOINT_EVERY_ENTRIES": "1000000",
                "SCHAKEL_AUDIT_CHECKPOINT_EVERY_SECONDS": "86400",
                "SCHAKEL_AUDIT_CHECKPOINT_INTERVAL_SECONDS": "0",
            })  # fmt: skip
        settings = seed_database(environment)
        bodies = [json.dumps(disclosure_body(demo.bsn)) for demo in DEMO_PARTICIPANTS]
        with serve(environment, folder / "gateway.log"):
            token = consents_and_token(settings)
            target = load.Target(settings.public_url, "/v1/disclosures", token, bodies)
            load.run(target, seconds=2, clients=clients, folder=folder, name="warm-up")
            found = load.run(target, seconds=seconds, clients=clients, folder=folder, name="run")
        engine = make_engine(pg_url)
        with read_transaction(make_sessionmaker(engine)) as session:
            found["checkpoints"] = session.scalar(select(func.count()).select_from(AuditCheckpoint))
        engine.dispose()
        return found
    finally:
        drop()


def _tree_cost(
    postgres_admin_url: str, seconds: int, rounds: int, clients: int = 16
) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {"with": [], "without": []}
    for _ in range(rounds):
        for name, checkpoints in (("with", True), ("without", False)):
            found = _disclosures_per_s(postgres_admin_url, checkpoints, seconds, clients)
            _progress(f"tree cost: {name} checkpoints: {found}")
            runs[name].append(found)
    rps = {name: sum(r["rps"] for r in found) / len(found) for name, found in runs.items()}
    return {"runs": runs, "with_rps": rps["with"], "without_rps": rps["without"],
            "cost": 1 - rps["with"] / rps["without"], "clients": clients}  # fmt: skip


def run(postgres_admin_url: str | None, *, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    if not postgres_admin_url:
        return [Row("transparency", "not run (no PostgreSQL)", "-", "-", "-", "-")], {}
    total, requests, warm_up = (20_000, 200, 20) if quick else (TOTAL, 500, 50)
    figures: dict[str, Any] = {
        "proofs": _proof_figures(postgres_admin_url, total, requests, warm_up)
    }
    _progress(f"transparency: {figures['proofs']}")
    figures["tree_cost"] = _tree_cost(postgres_admin_url, 3 if quick else 10, 1 if quick else 2)
    rows = []
    size = f"PostgreSQL, {total:,} entries"
    reference = figures["proofs"]["one_read"]
    for name in ("inclusion", "consistency"):
        found = figures["proofs"][name]
        met = "yes" if found["p99_ms"] <= GOAL_PROOF_P99_MS else "NO"
        rows += [
            Row(f"audit: {name} proof via API p50 ({size})", f"{found['p50_ms']:.1f} ms",
                f"one read {reference['p50_ms']:.1f} ms",
                f"{found['p50_ms'] / reference['p50_ms']:.2f}x", "-", "-"),
            Row(f"audit: {name} proof via API p99 ({size})", f"{found['p99_ms']:.1f} ms",
                f"one read {reference['p99_ms']:.1f} ms",
                f"{found['p99_ms'] / reference['p99_ms']:.2f}x",
                f"<= {GOAL_PROOF_P99_MS:.0f} ms", met),
        ]  # fmt: skip
    cost = figures["tree_cost"]
    rows.append(Row(
        f"audit: checkpoints with the tree, e2e PostgreSQL {cost['clients']} clients",
        f"{cost['with_rps']:.0f}/s", f"without {cost['without_rps']:.0f}/s",
        f"cost {cost['cost'] * 100:.1f} %", f"<= {GOAL_TREE_COST * 100:.0f} %",
        "yes" if cost["cost"] <= GOAL_TREE_COST else "NO",
    ))  # fmt: skip
    return rows, figures

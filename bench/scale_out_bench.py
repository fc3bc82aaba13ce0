"""Scale-out: one and then two `schakel serve` processes on one PostgreSQL (fsync on).

1. Gateways: the same 16 clients (two wrk loads of 8) ask one gateway process, then two (8
   each), as a load balancer would spread them; the processes share the database, the keys and
   the public URL. After each run `schakel audit verify` checks the whole chain.
2. The ceiling: every process appends to the one chain under the log's lock (an advisory lock on
   PostgreSQL), held from the head's read through the commit and its fsync. Writers of their own
   (processes, each a transaction per batch of appends, as the batch writer does) measure how
   long one batch holds the lock and how many appends per second get through it.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import load
from audit_bench import _draft, _migrated
from common import Row, percentile
from serving import (
    DEMO_PARTICIPANTS,
    consents_and_token,
    cpu_seconds,
    disclosure_body,
    gateway_environment,
    load_average,
    partner_token,
    schakel,
    seed_database,
    serve,
)

from audit.append import append_entry, entries_held, lock_log
from gateway.core.db import make_engine, make_sessionmaker, transaction
from tests.support import free_port

PUBLIC_URL = "http://gateway.bench"  # the load balancer's address: every process issues for it
CLIENTS_PER_LOAD = 8
BATCHES = (1, 16)  # appends per transaction: one per request, or a batch writer's group
WRITERS = (1, 4)  # processes appending at once


def _batches(metrics_urls: list[str]) -> tuple[float, float]:
    """Batches committed and units in them so far, over the processes' /metrics."""
    batches = units = 0.0
    for url in metrics_urls:
        text = httpx.get(f"{url}/metrics", timeout=10).text
        count = re.search(r"^schakel_writer_batch_size_count (\S+)$", text, re.M)
        total = re.search(r"^schakel_writer_batch_size_sum (\S+)$", text, re.M)
        assert count and total, text
        batches, units = batches + float(count[1]), units + float(total[1])
    return batches, units


def _gateway_run(urls: list[str], token: str, seconds: int, folder: Path,
                 pids: list[int], metrics_urls: list[str], name: str) -> dict[str, Any]:  # fmt: skip
    """Two loads of 8 clients, spread over ``urls`` in turn; their figures combined, with the
    mean number of appends a batch writer commits together (each takes the head lock once)."""
    bodies = [json.dumps(disclosure_body(demo.bsn)) for demo in DEMO_PARTICIPANTS]
    targets = [load.Target(urls[n % len(urls)], "/v1/disclosures", token, bodies) for n in (0, 1)]
    warm = [load.start(t, seconds=2, clients=CLIENTS_PER_LOAD, folder=folder, name=f"warm-{n}")
            for n, t in enumerate(targets)]  # fmt: skip
    for running in warm:
        load.finish(running)
    before = sum(cpu_seconds(pid) for pid in pids)
    batches_before = _batches(metrics_urls)
    loads = [load.start(t, seconds=seconds, clients=CLIENTS_PER_LOAD, folder=folder,
                        name=f"{name}-{n}") for n, t in enumerate(targets)]  # fmt: skip
    parts = [load.finish(running) for running in loads]
    used = sum(cpu_seconds(pid) for pid in pids) - before
    (batches_after, units_after), (batches_then, units_then) = (
        _batches(metrics_urls),
        batches_before,
    )
    batches, units = batches_after - batches_then, units_after - units_then
    requests = sum(part["requests"] for part in parts)
    return {
        "processes": len(urls),
        "rps": sum(part["rps"] for part in parts),
        "requests": requests,
        "errors": sum(part["errors"] for part in parts),
        "p50_ms": sum(part["p50_ms"] * part["requests"] for part in parts) / max(requests, 1),
        "p99_ms": max(part["p99_ms"] for part in parts),
        "cpu_ms_per_request": used * 1000 / max(requests, 1),
        "batch_mean": units / max(batches, 1),
        "commits_per_s": batches / seconds,
        "load_average": load_average(),
        "loads": parts,
    }


def _verify(environment: dict[str, str]) -> dict[str, Any]:
    """`schakel audit verify` over the whole chain, as an operator runs it."""
    started = time.perf_counter()
    done = schakel(environment, "audit", "verify")
    summary = (done.stdout + done.stderr).strip()
    counted = re.search(r"(\d+) entries, (\d+) checkpoints", summary)
    return {"ok": done.returncode == 0, "seconds": time.perf_counter() - started,
            "summary": summary[-300:], "entries": int(counted[1]) if counted else 0,
            "checkpoints": int(counted[2]) if counted else 0}  # fmt: skip


def _gateways(postgres_url: str, seconds: int, folder: Path) -> dict[str, Any]:
    environment = gateway_environment(folder, postgres_url, free_port(), public_url=PUBLIC_URL)
    settings = seed_database(environment)
    environment["SCHAKEL_METRICS_PORT"] = str(free_port())
    metrics = [f"http://127.0.0.1:{environment['SCHAKEL_METRICS_PORT']}"]
    found: dict[str, Any] = {}
    with ExitStack() as stack:
        first = stack.enter_context(serve(environment, folder / "gateway-1.log"))
        urls = [f"http://127.0.0.1:{environment['SCHAKEL_PORT']}"]
        print(f"scale-out: gateway 1 on {urls[0]}", flush=True)
        token = consents_and_token(settings, urls[0])
        found["one"] = _gateway_run(urls, token, seconds, folder, [first.pid], metrics, "one")
        found["one"]["verify"] = _verify(environment)
        print(f"  one process: {found['one']}", flush=True)
        second_environment = {**environment, "SCHAKEL_PORT": str(free_port()),
                              "SCHAKEL_METRICS_PORT": str(free_port())}  # fmt: skip
        metrics.append(f"http://127.0.0.1:{second_environment['SCHAKEL_METRICS_PORT']}")
        second = stack.enter_context(serve(second_environment, folder / "gateway-2.log"))
        urls.append(f"http://127.0.0.1:{second_environment['SCHAKEL_PORT']}")
        print(f"scale-out: gateway 2 on {urls[1]}", flush=True)
        assert partner_token(settings, urls[1]), "the second process issues tokens too"
        found["two"] = _gateway_run(urls, token, seconds, folder, [first.pid, second.pid],
                                    metrics, "two")  # fmt: skip
        found["two"]["verify"] = _verify(environment)
        print(f"  two processes: {found['two']}", flush=True)
    return found


def _append_batches(url: str, batch: int, seconds: float, start: Any, results: Any) -> None:
    """One writer: transactions of ``batch`` appends for ``seconds`` once ``start`` is passed;
    puts how long each held the log's lock (from its grant to the commit's return)."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    drafts = [_draft(number) for number in range(batch)]
    clock = lambda: datetime.now(UTC)  # noqa: E731
    with transaction(sessions) as session:
        session.connection()  # the pool's connection, opened before the clock starts
    holds: list[float] = []
    start.wait()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        with transaction(sessions) as session, entries_held(session):
            lock_log(session)
            granted = time.perf_counter()
            for draft in drafts:
                append_entry(session=session, draft=draft, clock=clock)
        holds.append(time.perf_counter() - granted)
    engine.dispose()
    results.put(holds)


def _writers(url: str, batch: int, writers: int, seconds: float) -> list[float]:
    """``writers`` processes appending at once; every lock hold of theirs."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(writers + 1), context.Queue()
    processes = [context.Process(target=_append_batches, args=(url, batch, seconds, start, results))
                 for _ in range(writers)]  # fmt: skip
    for process in processes:
        process.start()
    start.wait(timeout=120)  # every writer imported, connected and ready
    holds = [hold for _ in processes for hold in results.get(timeout=seconds + 120)]
    for process in processes:
        process.join(timeout=30)
    return holds


def _ceiling(postgres_url: str, seconds: float) -> dict[str, Any]:
    """Appends/s through the lock for each batch size, with one writer and with several."""
    _migrated(postgres_url)
    found: dict[str, Any] = {}
    for batch in BATCHES:
        for writers in WRITERS:
            holds = _writers(postgres_url, batch, writers, seconds)
            found[f"{batch}x{writers}"] = part = {
                "batch": batch, "writers": writers, "appends_per_s": len(holds) * batch / seconds,
                "transactions_per_s": len(holds) / seconds,
                "hold_p50_ms": percentile(holds, 0.5) * 1000,
                "hold_mean_ms": statistics.fmean(holds) * 1000,
                "lock_busy": sum(holds) / seconds,  # share of the time the lock was held
                "ceiling_per_s": batch / statistics.fmean(holds),
                "load_average": load_average(),
            }  # fmt: skip
            print(f"  head lock, {batch} per transaction, {writers} writer(s): {part}", flush=True)
    return found


def run(postgres_url: str | None, ceiling_url: str | None, seconds: int = 10,
        ceiling_seconds: float = 5.0) -> tuple[list[Row], dict[str, Any]]:  # fmt: skip
    """``postgres_url`` and ``ceiling_url``: two throwaway databases on the durable server."""
    if postgres_url is None or ceiling_url is None or not load.available():
        return [
            Row("scale-out", "not run (no durable PostgreSQL or no wrk)", "-", "-", "-", "-")
        ], {}
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-scale-out-"))
    figures = _gateways(postgres_url, seconds, folder)
    figures["ceiling"] = _ceiling(ceiling_url, ceiling_seconds)
    return _rows(figures), figures


def _rows(found: dict[str, Any]) -> list[Row]:
    one, two = found["one"], found["two"]
    rows = [
        Row(f"scale-out: disclosures/s, {n} process{'es' if n > 1 else ''}, 16 clients",
            f"{part['rps']:.0f}/s", "1 process" if n > 1 else "-",
            f"{two['rps'] / one['rps']:.2f}x" if n > 1 else "-", "-", "-")
        for n, part in ((1, one), (2, two))
    ]  # fmt: skip
    rows += [
        Row(f"scale-out: p50 / p99, {n} process{'es' if n > 1 else ''}",
            f"{part['p50_ms']:.1f} / {part['p99_ms']:.1f} ms",
            f"CPU {part['cpu_ms_per_request']:.2f} ms per request, "
            f"{part['batch_mean']:.1f} appends per commit", "-", "-", "-")
        for n, part in ((1, one), (2, two))
    ]  # fmt: skip
    rows += [
        Row(f"scale-out: chain verified after {n} process{'es' if n > 1 else ''}",
            "yes" if part["verify"]["ok"] else "NO",
            f"{part['verify']['entries']:,} entries, {part['verify']['checkpoints']} checkpoints",
            "-", "verifies, 0 errors",
            _met(part["verify"]["ok"] and part["errors"] == 0))
        for n, part in ((1, one), (2, two))
    ]  # fmt: skip
    for part in found["ceiling"].values():
        batch, writers = part["batch"], part["writers"]
        rows.append(
            Row(f"head lock: appends/s, {batch} per commit, {writers} writer(s)",
                f"{part['appends_per_s']:.0f}/s",
                f"lock held {part['hold_mean_ms']:.2f} ms per commit, {part['lock_busy']:.0%} busy",
                f"ceiling {part['ceiling_per_s']:.0f}/s", "-", "-")
        )  # fmt: skip
    return rows


def _met(condition: bool) -> str:
    return "yes" if condition else "NO"

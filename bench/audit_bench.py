"""Audit log: appends/s (one writer, a transaction per entry) and verification entries/s."""

from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from common import Row, fresh_postgres
from sqlalchemy import insert

from audit.actions import Action
from audit.append import append_entry, head
from audit.chain import format_timestamp, seal_with_jcs
from audit.checkpoint import create_checkpoint
from audit.export import write_export
from audit.fields import FORMAT_VERSION
from audit.keys import AuditSigningKey, publish_jwks
from audit.models import AuditEntry
from audit.query import iter_documents
from audit.schemas import AuditDraft, Outcome
from audit.verify import verify_log
from audit.verify_database import verify_database
from audit.verify_export import verify_export
from gateway.core.db import make_engine, make_sessionmaker, read_transaction, transaction
from gateway.migrations.runner import upgrade_to_head

ORIGIN = "bench.schakel.example/audit"
GOAL_VERIFY = 300_000
NO_KEYS: dict[str, Any] = {"keys": []}
# The key of the bench's checkpoints: a log is verified with a tree checkpoint at its head, as
# the gateway signs them, so each reading builds the Merkle tree too.
KEY = AuditSigningKey.generate()
JWKS = publish_jwks(KEY)
# A full run verifies a log of at least this many entries (a quick run keeps its small number).
VERIFY_TOTAL_FULL = 1_000_000
IN_MEMORY = 100_000  # entries held in memory for the verify_log figure and its profile


def _draft(number: int) -> AuditDraft:
    return AuditDraft(
        trace_id=uuid.uuid4().hex,
        actor_party="uwv-leiden",
        actor_domain="uwv",
        action=Action.DISCLOSE,
        subject_ref=f"pseudonym-{number % 97:04d}",
        purpose="reintegration",
        categories=("care.involvement", "work.capacity"),
        consent_ids=(str(uuid.uuid4()),),
        decision_id=str(uuid.uuid4()),
        policy_revision="a" * 64,
        outcome=Outcome.ALLOW,
        reason=None,
        payload_digest="b" * 64,
    )


def _appends(url: str, n: int) -> float:
    """Entries/s for ``n`` appends, each in a transaction of its own (the gateway's pattern)."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    drafts = [_draft(i) for i in range(n)]
    for draft in drafts[:20]:  # warm-up
        with transaction(sessions) as session:
            append_entry(session=session, draft=draft, clock=clock)
    start = time.perf_counter()
    for draft in drafts[20:]:
        with transaction(sessions) as session:
            append_entry(session=session, draft=draft, clock=clock)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return (n - 20) / elapsed


def _fill(url: str, total: int) -> None:
    """Extend the chain to ``total`` entries quickly: sealed exactly as append_entry would."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        last = head(session)
        seq = last.seq if last else 0
        prev = last.entry_hash if last else "0" * 64
        moment = (last.recorded_at if last else datetime.now(UTC)).astimezone(UTC)
        drafts = [_draft(number).model_dump(mode="json") for number in range(97)]
        batch: list[dict[str, Any]] = []
        while seq < total:
            seq += 1
            moment += timedelta(microseconds=10)
            fields = {
                **drafts[seq % 97],
                "trace_id": uuid.uuid4().hex,
                "consent_ids": [str(uuid.uuid4())],
                "seq": seq,
                "recorded_at": format_timestamp(moment),
                "prev_hash": prev,
            }
            document, jcs = seal_with_jcs(fields)
            prev = document["entry_hash"]
            batch.append({**document, "recorded_at": moment, "canonical": jcs.decode(),
                          "version": FORMAT_VERSION})  # fmt: skip
            if len(batch) == 5000:
                session.execute(insert(AuditEntry), batch)
                batch = []
            if seq % 100_000 == 0:
                print(f"  filled {seq:,} of {total:,} entries", flush=True)
        if batch:
            session.execute(insert(AuditEntry), batch)
    with transaction(sessions) as session:
        create_checkpoint(session=session, signing_key=KEY, clock=lambda: datetime.now(UTC),
                          origin=ORIGIN)  # fmt: skip
    engine.dispose()


def _progress(label: str) -> Any:
    start = time.perf_counter()

    def report(entries: int) -> None:
        rate = entries / (time.perf_counter() - start)
        print(f"  {label}: {entries:,} entries ({rate:,.0f}/s)", flush=True)

    return report


def _verify(url: str, label: str, runs: int = 2) -> tuple[float, int]:
    """Entries/s of verify_database over the whole log, the best of ``runs`` (wall clock).

    Each run is printed; back-to-back runs over the same log differ by up to 10 %.
    """
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    rates = []
    for _ in range(runs):
        with read_transaction(sessions) as session:
            start = time.perf_counter()
            report = verify_database(session=session, jwks=JWKS, progress=_progress(label))
            elapsed = time.perf_counter() - start
            assert report.ok, report.summary()
        rates.append(report.entries / elapsed)
        print(f"  {label}: run {len(rates)}: {rates[-1]:,.0f} entries/s", flush=True)
    engine.dispose()
    return max(rates), report.entries


def _verify_export_file(url: str, folder: Path) -> tuple[float, int]:
    """Write the log as an export file, then entries/s of verify_export over it."""
    engine = make_engine(url)
    path = folder / "audit-export.ndjson"
    with transaction(make_sessionmaker(engine)) as session, path.open("w") as out:
        write_export(session=session, out=out, clock=lambda: datetime.now(UTC), origin=ORIGIN)
    engine.dispose()
    start = time.perf_counter()
    report = verify_export(path, JWKS, progress=_progress("verify export"))
    elapsed = time.perf_counter() - start
    assert report.ok, report.summary()
    path.unlink()
    return report.entries / elapsed, report.entries


def _documents(url: str, limit: int) -> list[dict[str, Any]]:
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        documents = list(islice(iter_documents(session=session, through=limit), limit))
    engine.dispose()
    return documents


def _profile(documents: list[dict[str, Any]]) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    verify_log(iter(documents), [], NO_KEYS)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(8)
    return out.getvalue()


def _migrated(url: str) -> None:
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()


def run(
    postgres_admin_url: str | None, appends: int, verify_total: int
) -> tuple[list[Row], dict[str, Any]]:
    if verify_total > 10_000:
        verify_total = max(verify_total, VERIFY_TOTAL_FULL)
    figures: dict[str, Any] = {}
    rows: list[Row] = []
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-audit-"))
    sqlite_url = f"sqlite:///{folder / 'audit.db'}"
    _migrated(sqlite_url)
    figures["append_sqlite_per_s"] = _appends(sqlite_url, appends)
    print(f"audit append SQLite: {figures['append_sqlite_per_s']:.0f} entries/s", flush=True)
    rows.append(Row("audit: appends/s SQLite (1 writer)", f"{figures['append_sqlite_per_s']:.0f}/s",
                    "-", "-", "-", "-"))  # fmt: skip
    if postgres_admin_url:
        pg_url, drop = fresh_postgres(postgres_admin_url)
        try:
            _migrated(pg_url)
            figures["append_pg_per_s"] = _appends(pg_url, appends)
            print(
                f"audit append PostgreSQL: {figures['append_pg_per_s']:.0f} entries/s", flush=True
            )
            _fill(pg_url, verify_total)
            figures["verify_pg_per_s"], _ = _verify(pg_url, "verify PostgreSQL")
            print(
                f"audit verify PostgreSQL: {figures['verify_pg_per_s']:.0f} entries/s", flush=True
            )
        finally:
            drop()
        rows.append(Row("audit: appends/s PostgreSQL (1 writer)", f"{figures['append_pg_per_s']:.0f}/s",
                        f"SQLite {figures['append_sqlite_per_s']:.0f}/s",
                        f"{figures['append_pg_per_s'] / figures['append_sqlite_per_s']:.2f}x", "-", "-"))  # fmt: skip
    else:
        rows.append(
            Row("audit: appends/s PostgreSQL", "not run (no PostgreSQL)", "-", "-", "-", "-")
        )
    _fill(sqlite_url, verify_total)
    rate, count = _verify(sqlite_url, "verify SQLite")
    figures["verify_sqlite_per_s"] = rate
    figures["verify_entries"] = count
    print(f"audit verify_database SQLite: {rate:.0f} entries/s over {count} entries", flush=True)
    export_rate, _ = _verify_export_file(sqlite_url, folder)
    figures["verify_export_per_s"] = export_rate
    print(f"audit verify_export: {export_rate:.0f} entries/s over {count} entries", flush=True)
    documents = _documents(sqlite_url, IN_MEMORY)
    start = time.perf_counter()
    report = verify_log(iter(documents), [], NO_KEYS)
    figures["verify_log_in_memory_per_s"] = report.entries / (time.perf_counter() - start)
    print(f"audit verify_log in memory: {figures['verify_log_in_memory_per_s']:.0f} entries/s "
          f"over {report.entries} entries", flush=True)  # fmt: skip
    figures["verify_profile"] = _profile(documents)
    print(figures["verify_profile"], flush=True)
    seconds_1m = 1_000_000 / rate
    for name, figure in (("SQLite", rate), ("PostgreSQL", figures.get("verify_pg_per_s")),
                         ("export file", export_rate)):  # fmt: skip
        if figure is not None:
            rows.append(Row(f"audit: verify {name} ({count} entries)", f"{figure:.0f}/s",
                            f"goal {GOAL_VERIFY}/s", f"{figure / GOAL_VERIFY:.2f}x",
                            f">= {GOAL_VERIFY}/s", "yes" if figure >= GOAL_VERIFY else "NO"))  # fmt: skip
    memory = figures["verify_log_in_memory_per_s"]
    rows.append(Row(f"audit: verify_log (in memory, {report.entries} entries)", f"{memory:.0f}/s",
                    f"goal {GOAL_VERIFY}/s", f"{memory / GOAL_VERIFY:.2f}x", f">= {GOAL_VERIFY}/s",
                    "yes" if memory >= GOAL_VERIFY else "NO"))  # fmt: skip
    figures["verify_1m_seconds_extrapolated"] = seconds_1m
    return rows, figures

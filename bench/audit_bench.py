"""Audit log: appends/s (one writer, a transaction per entry) and verification entries/s.

Verification is set against plain SHA-256 over the same bytes (each entry's predecessor hash and
stored JCS bytes, what the chain hashes), measured in the same run just before it: the goal is a
ratio, since this machine's speed drifts within the day.
"""

from __future__ import annotations

import cProfile
import hashlib
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
from sqlalchemy import insert, select

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

GOAL_OF_SHA256 = 0.33  # verification's entries/s against plain SHA-256's
SHA256_CHUNK = 10_000  # entries read at a time for plain SHA-256
ORIGIN = "bench.schakel.example/audit"
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


def _sha256_rate(url: str) -> float:
    """Entries/s of plain SHA-256 over the bytes the chain hashes, every entry's, read in chunks;
    only the hashing is timed, spread over the whole read as verification is over its run."""
    engine = make_engine(url)
    sha256, hashing, entries = hashlib.sha256, 0.0, 0
    with read_transaction(make_sessionmaker(engine)) as session:
        rows = session.execute(
            select(AuditEntry.prev_hash, AuditEntry.canonical)
            .order_by(AuditEntry.seq)
            .execution_options(yield_per=SHA256_CHUNK)
        )
        for chunk in rows.partitions():
            inputs = [
                bytes.fromhex(prev_hash) + canonical.encode() for prev_hash, canonical in chunk
            ]
            start = time.perf_counter()
            for data in inputs:
                sha256(data).digest()
            hashing += time.perf_counter() - start
            entries += len(inputs)
    engine.dispose()
    rate = entries / hashing
    print(f"  plain SHA-256 over {entries:,} entries' bytes: {rate:,.0f}/s", flush=True)
    return rate


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


def _postgres_appends(name: str, admin_url: str, appends: int) -> float:
    url, drop = fresh_postgres(admin_url)
    try:
        _migrated(url)
        rate = _appends(url, appends)
    finally:
        drop()
    print(f"audit append {name}: {rate:.0f} entries/s", flush=True)
    return rate


def _postgres_verify(name: str, admin_url: str, verify_total: int) -> tuple[float, float]:
    """Verification of a log of ``verify_total`` entries, and plain SHA-256 just before it."""
    url, drop = fresh_postgres(admin_url)
    try:
        _migrated(url)
        _fill(url, verify_total)
        sha256 = _sha256_rate(url)
        rate, _ = _verify(url, f"verify {name}")
    finally:
        drop()
    print(
        f"audit verify PostgreSQL: {rate:.0f} entries/s ({rate / sha256:.2f}x SHA-256)", flush=True
    )
    return rate, sha256


def _verify_row(label: str, count: int, rate: float, sha256: float, goal: bool = True) -> Row:
    ratio = rate / sha256
    return Row(f"audit: {label} ({count:,} entries)", f"{rate:,.0f}/s",
               f"SHA-256 {sha256:,.0f}/s", f"{ratio:.2f}x",
               f">= {GOAL_OF_SHA256}x SHA-256" if goal else "-",
               ("yes" if ratio >= GOAL_OF_SHA256 else "NO") if goal else "-")  # fmt: skip


def run(
    postgres_urls: dict[str, str], appends: int, verify_total: int
) -> tuple[list[Row], dict[str, Any]]:
    """SQLite, and each PostgreSQL server of ``postgres_urls`` (a name and its admin URL)."""
    if verify_total > 10_000:
        verify_total = max(verify_total, VERIFY_TOTAL_FULL)
    figures: dict[str, Any] = {}
    rows: list[Row] = []
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-audit-"))
    sqlite_url = f"sqlite:///{folder / 'audit.db'}"
    _migrated(sqlite_url)
    sqlite_appends = figures["append_sqlite_per_s"] = _appends(sqlite_url, appends)
    print(f"audit append SQLite: {sqlite_appends:.0f} entries/s", flush=True)
    rows.append(Row("audit: appends/s SQLite (1 writer)", f"{sqlite_appends:.0f}/s",
                    "-", "-", "-", "-"))  # fmt: skip
    for name, admin_url in postgres_urls.items():
        rate = figures[f"append_per_s {name}"] = _postgres_appends(name, admin_url, appends)
        rows.append(Row(f"audit: appends/s {name} (1 writer)", f"{rate:.0f}/s",
                        f"SQLite {sqlite_appends:.0f}/s", f"{rate / sqlite_appends:.2f}x", "-",
                        "-"))  # fmt: skip
    verified = {
        name: _postgres_verify(name, url, verify_total) for name, url in postgres_urls.items()
    }
    figures["verify_pg"] = {name: {"per_s": rate, "sha256_per_s": sha256}
                            for name, (rate, sha256) in verified.items()}  # fmt: skip
    if not postgres_urls:
        rows.append(Row("audit: PostgreSQL", "not run (no PostgreSQL)", "-", "-", "-", "-"))
    _fill(sqlite_url, verify_total)
    sha256 = figures["sha256_sqlite_per_s"] = _sha256_rate(sqlite_url)
    rate, count = _verify(sqlite_url, "verify SQLite")
    figures["verify_sqlite_per_s"] = rate
    figures["verify_entries"] = count
    print(f"audit verify_database SQLite: {rate:.0f} entries/s over {count} entries", flush=True)
    export_sha256 = figures["sha256_export_per_s"] = _sha256_rate(sqlite_url)
    export_rate, _ = _verify_export_file(sqlite_url, folder)
    figures["verify_export_per_s"] = export_rate
    print(f"audit verify_export: {export_rate:.0f} entries/s over {count} entries", flush=True)
    documents = _documents(sqlite_url, IN_MEMORY)
    memory_sha256 = _sha256_rate(sqlite_url)
    start = time.perf_counter()
    report = verify_log(iter(documents), [], NO_KEYS)
    memory = figures["verify_log_in_memory_per_s"] = report.entries / (time.perf_counter() - start)
    print(f"audit verify_log in memory: {memory:.0f} entries/s over {report.entries} entries",
          flush=True)  # fmt: skip
    figures["verify_profile"] = _profile(documents)
    print(figures["verify_profile"], flush=True)
    rows.append(_verify_row("verify SQLite", count, rate, sha256))
    for name, (pg_rate, pg_sha256) in verified.items():
        rows.append(_verify_row(f"verify {name}", count, pg_rate, pg_sha256))
    rows.append(_verify_row("verify export file", count, export_rate, export_sha256))
    rows.append(_verify_row("verify_log in memory", report.entries, memory, memory_sha256,
                            goal=False))  # fmt: skip
    return rows, figures

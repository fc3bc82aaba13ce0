"""Audit log: appends/s (one writer, a transaction per entry) and verification entries/s."""

from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import Row
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from audit.chain import format_timestamp, seal
from audit.export import verify_database
from audit.models import AuditEntry
from audit.schemas import AuditDraft, Outcome
from audit.service import append_entry, entry_document, head
from audit.verify import verify_log
from gateway.db import make_engine, make_sessionmaker, transaction
from gateway.migrations.runner import upgrade_to_head

GOAL_VERIFY = 300_000
NO_KEYS: dict[str, Any] = {"keys": []}


def _draft(number: int) -> AuditDraft:
    return AuditDraft(
        trace_id=uuid.uuid4().hex,
        actor_party="uwv-leiden",
        actor_domain="uwv",
        action="disclosure.request",
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
        batch: list[dict[str, Any]] = []
        while seq < total:
            seq += 1
            moment += timedelta(microseconds=10)
            fields = {
                **_draft(seq).model_dump(mode="json"),
                "seq": seq,
                "recorded_at": format_timestamp(moment),
                "prev_hash": prev,
            }
            document = seal(fields)
            prev = document["entry_hash"]
            batch.append({**document, "recorded_at": moment})
            if len(batch) == 5000:
                session.execute(insert(AuditEntry), batch)
                batch = []
        if batch:
            session.execute(insert(AuditEntry), batch)
    engine.dispose()


def _verify(url: str) -> tuple[float, int, list[dict[str, Any]]]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        start = time.perf_counter()
        report = verify_database(session=session, jwks=NO_KEYS)
        elapsed = time.perf_counter() - start
        assert report.ok, report.summary()
        documents = [
            entry_document(e) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]
    engine.dispose()
    return report.entries / elapsed, report.entries, documents


def _profile(url: str) -> str:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    profiler = cProfile.Profile()
    with transaction(sessions) as session:
        profiler.enable()
        verify_database(session=session, jwks=NO_KEYS)
        profiler.disable()
    engine.dispose()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(8)
    return out.getvalue()


def _fresh_postgres(admin_url: str) -> tuple[str, Any]:
    name = f"schakel_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def _migrated(url: str) -> None:
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()


def run(
    postgres_admin_url: str | None, appends: int, verify_total: int
) -> tuple[list[Row], dict[str, Any]]:
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
        pg_url, drop = _fresh_postgres(postgres_admin_url)
        try:
            _migrated(pg_url)
            figures["append_pg_per_s"] = _appends(pg_url, appends)
            print(
                f"audit append PostgreSQL: {figures['append_pg_per_s']:.0f} entries/s", flush=True
            )
            _fill(pg_url, verify_total)
            figures["verify_pg_per_s"], _, _ = _verify(pg_url)
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
    rate, count, documents = _verify(sqlite_url)
    figures["verify_sqlite_per_s"] = rate
    figures["verify_entries"] = count
    start = time.perf_counter()
    report = verify_log(iter(documents), [], NO_KEYS)
    figures["verify_log_in_memory_per_s"] = report.entries / (time.perf_counter() - start)
    print(f"audit verify_database SQLite: {rate:.0f} entries/s over {count} entries; "
          f"verify_log in memory {figures['verify_log_in_memory_per_s']:.0f} entries/s", flush=True)  # fmt: skip
    figures["verify_profile"] = _profile(sqlite_url)
    print(figures["verify_profile"], flush=True)
    seconds_1m = 1_000_000 / rate
    rows.append(Row(f"audit: verify_database SQLite ({count} entries)", f"{rate:.0f}/s",
                    f"goal {GOAL_VERIFY}/s", f"{rate / GOAL_VERIFY:.2f}x", f">= {GOAL_VERIFY}/s",
                    "yes" if rate >= GOAL_VERIFY else "NO"))  # fmt: skip
    if "verify_pg_per_s" in figures:
        pg_rate = figures["verify_pg_per_s"]
        rows.append(Row(f"audit: verify_database PostgreSQL ({count} entries)", f"{pg_rate:.0f}/s",
                        f"goal {GOAL_VERIFY}/s", f"{pg_rate / GOAL_VERIFY:.2f}x", f">= {GOAL_VERIFY}/s",
                        "yes" if pg_rate >= GOAL_VERIFY else "NO"))  # fmt: skip
    memory = figures["verify_log_in_memory_per_s"]
    rows.append(Row("audit: verify_log (in memory, no DB)", f"{memory:.0f}/s", f"goal {GOAL_VERIFY}/s",
                    f"{memory / GOAL_VERIFY:.2f}x", f">= {GOAL_VERIFY}/s",
                    "yes" if memory >= GOAL_VERIFY else "NO"))  # fmt: skip
    figures["verify_1m_seconds_extrapolated"] = seconds_1m
    return rows, figures

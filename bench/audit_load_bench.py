"""Audit log under load: appends/s with 8 concurrent writers, and officer queries on a large log.

1. Appends: 8 threads each append N entries, every entry in a transaction of its own (the
   gateway's pattern), against one writer on the same database; afterwards the chain must be
   gap-free and verify. Writers are serialised by the log's lock (BEGIN IMMEDIATE on SQLite, an
   advisory lock on PostgreSQL), so the interesting figure is how much of the one-writer rate
   survives the contention.
2. Queries: a real gateway (`schakel serve`, a process of its own) on PostgreSQL, its log filled to 1,000,000 entries
   (sealed as append_entry seals them, written with COPY) over ~10,000 subjects, and a privacy
   officer asking GET /v1/audit/entries for one participant's history by BSN, again and again.
   Each of those requests is itself audited, as in production.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from audit_bench import NO_KEYS, _appends, _draft, _migrated
from common import Row, fresh_postgres, percentile
from serving import consents_and_token, gateway_environment, partner_token, seed_database, serve
from sqlalchemy import func, select, text

from audit.append import append_entry, head
from audit.chain import format_timestamp, seal_with_jcs
from audit.fields import DOCUMENT_FIELDS, FORMAT_VERSION
from audit.models import AuditEntry
from audit.schemas import AuditDraft
from audit.verify_database import verify_database
from gateway.core.db import make_engine, make_sessionmaker, transaction
from gateway.demo.seed import DEMO_PARTICIPANTS
from gateway.identity.vault import AUDIT_DOMAIN, find_by_bsn, pseudonym
from gateway.runtime import build_runtime
from gateway.settings import Settings
from tests.support import free_port

WRITERS = 8
ENTRIES_PER_SUBJECT = 100  # 1M entries over 10,000 subjects
OFFICER = "gemeente-leiden"  # the demo party with the privacy-officer role
GOAL_P99_MS = 15.0
# The entry table's columns, as audit/fields.py declares the members.
COLUMNS = (*DOCUMENT_FIELDS, "canonical", "version")


# --- 1. concurrent appends -------------------------------------------------------------------


def _concurrent_appends(url: str, writers: int, per_writer: int) -> float:
    """Entries/s for ``writers`` threads appending ``per_writer`` entries each, one per transaction."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    drafts = [[_draft(w * per_writer + i) for i in range(per_writer)] for w in range(writers)]
    start_line = threading.Barrier(writers + 1)
    failures: list[BaseException] = []

    def write(own: list[AuditDraft]) -> None:
        with transaction(sessions) as session:  # open the connection before the clock starts
            session.execute(select(1))
        start_line.wait()
        try:
            for draft in own:
                with transaction(sessions) as session:
                    append_entry(session=session, draft=draft, clock=clock)
        except BaseException as error:  # reported after the join, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=write, args=(own,)) for own in drafts]
    for thread in threads:
        thread.start()
    start_line.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    engine.dispose()
    if failures:
        raise failures[0]
    return writers * per_writer / elapsed


def _check_chain(url: str, expected: int) -> None:
    """The log holds seq 1..expected without a gap, and the chain verifies."""
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        count, low, high = session.execute(
            select(func.count(), func.min(AuditEntry.seq), func.max(AuditEntry.seq))
        ).one()
        assert (count, low, high) == (expected, 1, expected), (count, low, high, expected)
        report = verify_database(session=session, jwks=NO_KEYS)
        assert report.ok, report.summary()
        assert report.entries == expected, report.entries
    engine.dispose()


def _writer_figures(url: str, appends: int, per_writer: int) -> dict[str, float]:
    one = _appends(url, appends)
    eight = _concurrent_appends(url, WRITERS, per_writer)
    _check_chain(url, appends + WRITERS * per_writer)
    return {"one_writer_per_s": one, "eight_writers_per_s": eight, "ratio": eight / one}


def _writer_rows(name: str, found: dict[str, float]) -> list[Row]:
    return [
        Row(f"audit: appends/s {name} ({WRITERS} writers)", f"{found['eight_writers_per_s']:.0f}/s",
            f"1 writer {found['one_writer_per_s']:.0f}/s", f"{found['ratio']:.2f}x", "-", "-"),
    ]  # fmt: skip


# --- 2. officer queries on a large log --------------------------------------------------------


def _fill(url: str, total: int, subjects: list[str]) -> None:
    """Extend the chain to ``total`` entries with COPY; sealed exactly as append_entry would.

    Subject ``n`` of the list appears on every ``len(subjects)``-th entry.
    """
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        last = head(session)
    seq = last.seq if last else 0
    prev = last.entry_hash if last else "0" * 64
    moment = (last.recorded_at if last else datetime.now(UTC)).astimezone(UTC)
    template = _draft(0).model_dump(mode="json")
    compact = {"separators": (",", ":")}  # as the gateway's engine writes JSON columns
    categories = json.dumps(template["categories"], **compact)
    consent_ids = json.dumps(["c-1"], **compact)
    started, reported = time.perf_counter(), seq
    statement = f"COPY audit_entries ({', '.join(COLUMNS)}) FROM STDIN"
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            while seq < total:
                seq += 1
                moment += timedelta(microseconds=10)
                fields = {
                    **template,
                    "trace_id": f"{seq:032x}",
                    "subject_ref": subjects[seq % len(subjects)],
                    "consent_ids": ["c-1"],
                    "decision_id": f"d-{seq}",
                    "seq": seq,
                    "recorded_at": format_timestamp(moment),
                    "prev_hash": prev,
                }
                document, jcs = seal_with_jcs(fields)
                prev = document["entry_hash"]
                row = {**document, "recorded_at": moment, "categories": categories,
                       "consent_ids": consent_ids, "canonical": jcs.decode(),
                       "version": FORMAT_VERSION}  # fmt: skip
                copy.write_row(tuple(row[name] for name in COLUMNS))
                if seq - reported >= 100_000:
                    reported = seq
                    rate = (seq - (last.seq if last else 0)) / (time.perf_counter() - started)
                    _progress(f"  filled {seq:,}/{total:,} entries ({rate:,.0f}/s)")
        raw.commit()
    finally:
        raw.close()
    # As autovacuum would soon after a load this size: fresh statistics for the planner.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE audit_entries"))
    engine.dispose()


def _latencies(
    client: httpx.Client, params: dict[str, str], subject: str, requests: int, warm_up: int
) -> tuple[list[float], int]:
    """Seconds per GET /v1/audit/entries, measured after ``warm_up`` unmeasured requests."""
    samples: list[float] = []
    found = 0
    for number in range(warm_up + requests):
        start = time.perf_counter()
        response = client.get("/v1/audit/entries", params=params)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.text
        entries = response.json()["entries"]
        assert entries and all(entry["subject_ref"] == subject for entry in entries)
        found = len(entries)
        if number >= warm_up:
            samples.append(elapsed)
    return samples, found


def _explain(url: str, subject: str, limit: int) -> str:
    """The plan PostgreSQL picks for find_entries' query of one subject's first page."""
    engine = make_engine(url)
    with engine.connect() as connection:
        plan = connection.execute(
            text(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM audit_entries "
                "WHERE seq > 0 AND subject_ref = :subject ORDER BY seq LIMIT :limit"
            ),
            {"subject": subject, "limit": limit + 1},
        )
        lines = "\n".join(row[0] for row in plan)
    engine.dispose()
    return lines


def _subjects(settings: Settings, total: int) -> tuple[list[str], str]:
    """~``total / 100`` subject references; the first is the audit pseudonym of a demo participant."""
    runtime = build_runtime(settings)
    try:
        with transaction(runtime.sessions) as session:
            participant = find_by_bsn(session, runtime.identity_keys, DEMO_PARTICIPANTS[0].bsn)
            assert participant is not None
        subject = pseudonym(runtime.identity_keys, AUDIT_DOMAIN, participant.id)
    finally:
        runtime.close()
    others = max(1, total // ENTRIES_PER_SUBJECT) - 1
    return [subject, *(uuid.uuid4().hex * 2 for _ in range(others))], subject


def _query_figures(pg_url: str, total: int, requests: int, warm_up: int) -> dict[str, Any]:
    """A `schakel serve` gateway on a log of ``total`` entries; latency of one officer query."""
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-audit-load-"))
    environment = gateway_environment(folder, pg_url, free_port())
    settings = seed_database(environment)
    subjects, subject = _subjects(settings, total)
    _progress(f"audit query: filling the log to {total:,} entries over {len(subjects):,} subjects")
    start = time.perf_counter()
    _fill(pg_url, total, subjects)
    figures: dict[str, Any] = {"log_entries": total, "subjects": len(subjects),
                               "fill_seconds": time.perf_counter() - start}  # fmt: skip
    _progress(f"audit query: filled in {figures['fill_seconds']:.0f} s")
    figures["explain"] = _explain(pg_url, subject, 100)
    with serve(environment, folder / "gateway.log"):
        consents_and_token(settings)  # the participant's consent and a disclosure, audited
        with httpx.Client(base_url=settings.public_url, timeout=10) as client:
            client.headers["Authorization"] = (
                f"Bearer {partner_token(settings, settings.public_url, OFFICER)}"
            )
            params = {"subjectRef": DEMO_PARTICIPANTS[0].bsn}
            samples, found = _latencies(client, params, subject, requests, warm_up)
    figures.update({
        "requests": requests, "entries_per_answer": found,
        "p50_ms": percentile(samples, 0.50) * 1000, "p99_ms": percentile(samples, 0.99) * 1000,
        "max_ms": max(samples) * 1000, "mean_ms": sum(samples) / len(samples) * 1000,
    })  # fmt: skip
    return figures


def _progress(message: str) -> None:
    """Progress goes to stderr, which the gateway's request log (on stdout) does not take over."""
    print(message, file=sys.stderr, flush=True)


def _query_rows(found: dict[str, Any]) -> list[Row]:
    size = f"{found['log_entries']:,} entries, {found['entries_per_answer']} per answer"
    met = "yes" if found["p99_ms"] <= GOAL_P99_MS else "NO"
    return [
        Row(f"audit query p50 (PostgreSQL, {size})", f"{found['p50_ms']:.1f} ms", "-", "-", "-", "-"),
        Row(f"audit query p99 (PostgreSQL, {size})", f"{found['p99_ms']:.1f} ms",
            f"goal {GOAL_P99_MS:.0f} ms", f"{found['p99_ms'] / GOAL_P99_MS:.2f}x",
            f"<= {GOAL_P99_MS:.0f} ms", met),
    ]  # fmt: skip


def run(postgres_admin_url: str | None, *, quick: bool,
        name: str = "PostgreSQL") -> tuple[list[Row], dict[str, Any]]:  # fmt: skip
    appends, per_writer = (200, 50) if quick else (2000, 250)
    total, requests, warm_up = (20_000, 200, 20) if quick else (1_000_000, 500, 50)
    rows: list[Row] = []
    figures: dict[str, Any] = {}
    folder = Path(tempfile.mkdtemp(prefix="schakel-bench-audit-writers-"))
    sqlite_url = f"sqlite:///{folder / 'audit.db'}"
    _migrated(sqlite_url)
    figures["sqlite"] = _writer_figures(sqlite_url, appends, per_writer)
    _progress(f"audit appends SQLite: {figures['sqlite']}")
    rows += _writer_rows("SQLite", figures["sqlite"])
    if not postgres_admin_url:
        rows.append(Row("audit: PostgreSQL load", "not run (no PostgreSQL)", "-", "-", "-", "-"))
        return rows, figures
    pg_url, drop = fresh_postgres(postgres_admin_url)
    try:
        _migrated(pg_url)
        figures["postgresql"] = _writer_figures(pg_url, appends, per_writer)
    finally:
        drop()
    _progress(f"audit appends {name}: {figures['postgresql']}")
    rows += _writer_rows(name, figures["postgresql"])
    pg_url, drop = fresh_postgres(postgres_admin_url)
    try:
        figures["query"] = _query_figures(pg_url, total, requests, warm_up)
    finally:
        drop()
    _progress(figures["query"]["explain"])
    _progress(f"audit query: {figures['query']}")
    rows += _query_rows(figures["query"])
    return rows, figures

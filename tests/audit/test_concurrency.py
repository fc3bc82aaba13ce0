"""Concurrent writers: seq stays gap-free and the chain verifies (advisory lock / BEGIN IMMEDIATE)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, select

from audit.append import append_entry
from audit.keys import AuditSigningKey, publish_jwks
from audit.models import AuditEntry
from audit.verify_database import verify_database
from gateway.core.db import make_engine, make_sessionmaker, transaction
from gateway.migrations.runner import upgrade_to_head
from tests.audit.conftest import draft
from tests.support import SettableClock


def _hammer(engine: Engine, *, writers: int, entries: int) -> float:
    sessions = make_sessionmaker(engine)
    clock = SettableClock()

    def write(writer: int) -> None:
        for index in range(entries):
            with transaction(sessions) as session:
                append_entry(
                    session=session,
                    draft=draft(actor_party=f"writer-{writer}", decision_id=f"d-{index}"),
                    clock=clock,
                )

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(write, range(writers)))
    elapsed = time.perf_counter() - started
    with transaction(sessions) as session:
        seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        assert seqs == list(range(1, writers * entries + 1))
        key = AuditSigningKey.generate()
        report = verify_database(session=session, jwks=publish_jwks(key))
    assert report.ok, report.summary()
    assert report.entries == writers * entries
    return elapsed


def test_eight_writers_on_postgresql_keep_one_chain(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade_to_head(engine)
    try:
        elapsed = _hammer(engine, writers=8, entries=500)
    finally:
        engine.dispose()
    print(f"PostgreSQL: 8 writers x 500 entries in {elapsed:.1f} s")
    assert elapsed < 60


def test_four_writers_on_sqlite_keep_one_chain(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    upgrade_to_head(engine)
    try:
        _hammer(engine, writers=4, entries=100)
    finally:
        engine.dispose()

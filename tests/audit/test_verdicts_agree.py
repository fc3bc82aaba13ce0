"""Every way of reading a log reaches the verdict of a verifier written from the format document.

The quick readings (an export's bytes as written, the database's stored bytes) trust what a
checkpoint signs and hold every later entry to §8; the careful readings parse everything. For
any log a forger without the key could make, all of them name the same first bad seq as
tests/audit/format_verifier.py, which knows nothing but docs/audit-format.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, assume, given, settings
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from audit.actions import Action
from audit.chain import EXPORT_FORMAT, parse_timestamp
from audit.checkpoint import checkpoint_document
from audit.keys import publish_jwks
from audit.models import AuditCheckpoint, AuditEntry, entries_table
from audit.query import entry_document
from audit.schemas import AuditDraft, Outcome
from audit.verify import verify_log
from audit.verify_database import verify_database
from audit.verify_export import _verify_export_carefully, verify_export
from gateway.core.db import make_engine, make_sessionmaker, read_transaction, transaction
from gateway.migrations.runner import upgrade_to_head
from tests.audit import format_verifier
from tests.audit.builder import build_entries, sign_checkpoint
from tests.audit.guards import lift_guards
from tests.audit.tamper import KEY, Log, rehash, tampered_logs, tampered_storable_logs

JWKS = publish_jwks(KEY)


def _export(path: Path, entries: list[Any], checkpoints: list[Any]) -> None:
    """The file as `schakel audit export` lays it out: each entry line the JCS of the entry."""
    header = {"format": EXPORT_FORMAT, "exported_at": "2026-11-24T12:00:00.000000Z"}
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"header": header}) + "\n")
        for entry in entries:
            out.write('{"entry":' + rfc8785.dumps(entry).decode() + "}\n")
        for checkpoint in checkpoints:
            out.write(json.dumps({"checkpoint": checkpoint}, separators=(",", ":")) + "\n")


def _verdict(report: Any) -> tuple[bool, int | None]:
    return report.ok, report.first_bad_seq


def _checkpoint_row(checkpoint: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A checkpoint as a row; a version 2 one names the entry at its seq as the gateway does."""
    if "note" not in checkpoint:
        return {
            **checkpoint,
            "recorded_at": parse_timestamp(checkpoint["recorded_at"]),
            "signed_at": parse_timestamp(checkpoint["signed_at"]),
        }
    entry = next((e for e in entries if e.get("seq") == checkpoint["seq"]), None)
    return {
        "seq": checkpoint["seq"],
        "entry_hash": entry["entry_hash"] if entry else "0" * 64,  # entries taken away
        "recorded_at": parse_timestamp(entry["recorded_at"] if entry else checkpoint["signed_at"]),
        "signed_at": parse_timestamp(checkpoint["signed_at"]),
        "kid": KEY.kid,
        "signature": "-",
        "root_hash": "-",
        "note": checkpoint["note"],
    }


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tampered_logs())
def test_an_export_gets_the_documents_verdict_on_every_path(
    tmp_path_factory: Any, log: Log
) -> None:
    entries, checkpoints = log
    path = tmp_path_factory.mktemp("export") / "audit.ndjson"
    _export(path, entries, checkpoints)
    expected = format_verifier.verify_file(path, JWKS)
    assert _verdict(verify_export(path, JWKS)) == (expected.ok, expected.first_bad_seq)
    assert _verdict(_verify_export_carefully(path, JWKS)) == (expected.ok, expected.first_bad_seq)
    assert _verdict(verify_log(entries, checkpoints, JWKS)) == (expected.ok, expected.first_bad_seq)


@pytest.fixture
def unguarded(database_url: str) -> Iterator[Engine]:
    """A migrated database without the log's guards, as an attacker with the owner's rights has it."""
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    lift_guards(engine)
    yield engine
    engine.dispose()


def _store(
    sessions: sessionmaker[Session], entries: list[dict[str, Any]], checkpoints: list[Any]
) -> bool:
    """The tampered log as rows (columns and their JCS bytes); False when the rows cannot exist."""
    rows = []
    for entry in entries:
        hashed = {name: value for name, value in entry.items() if name != "entry_hash"}
        rows.append(
            {
                **entry,
                "recorded_at": parse_timestamp(entry["recorded_at"]),
                "canonical": rfc8785.dumps(hashed).decode(),
                "version": 2 if "actor_user" in entry else 1,
            }
        )
    marks = [_checkpoint_row(checkpoint, entries) for checkpoint in checkpoints]
    try:
        with transaction(sessions) as session:
            session.execute(delete(AuditCheckpoint))
            session.execute(delete(AuditEntry))
            if rows:
                session.execute(insert(entries_table), rows)
            if marks:
                session.execute(insert(AuditCheckpoint), marks)
    except IntegrityError:
        return False
    return True


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(tampered_storable_logs())
def test_the_database_gets_the_documents_verdict(unguarded: Engine, log: Log) -> None:
    sessions = make_sessionmaker(unguarded)
    entries, checkpoints = log
    assume(len({checkpoint["seq"] for checkpoint in checkpoints}) == len(checkpoints))
    assume(_store(sessions, entries, checkpoints))
    with read_transaction(sessions) as session:
        stored = [
            entry_document(row)
            for row in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]
        marks = [
            checkpoint_document(row)
            for row in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
        ]
        expected = format_verifier.verify(stored, marks, JWKS)
        report = verify_database(session=session, jwks=JWKS)
    assert _verdict(report) == (expected.ok, expected.first_bad_seq), report.summary()


def test_a_gap_hashed_over_under_a_checkpoint_at_the_missing_seq_is_reported(
    unguarded: Engine,
) -> None:
    """Entry 2 taken away, the rest linked again: PostgreSQL's ranges chain, yet seq 2 is gone."""
    entries = build_entries([AuditDraft(actor_party="p", actor_domain="uwv", action=Action.DENY,
                                        outcome=Outcome.DENY)] * 5)  # fmt: skip
    checkpoints = [sign_checkpoint(entries[1], KEY)]
    gapped = rehash([entries[0], *entries[2:]], 1)
    sessions = make_sessionmaker(unguarded)
    assert _store(sessions, gapped, checkpoints)
    with read_transaction(sessions) as session:
        report = verify_database(session=session, jwks=JWKS)
    assert not report.ok and report.first_bad_seq == 2, report.summary()

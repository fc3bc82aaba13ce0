"""Fixtures for the audit log: a migrated database (SQLite file or PostgreSQL) and its sessions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audit.schemas import AuditDraft, Outcome
from gateway.core.db import make_engine, make_sessionmaker
from gateway.migrations.runner import upgrade_to_head

# The origin line of the test log's checkpoints (C2SP tlog-checkpoint).
ORIGIN = "test.schakel.example/audit"


@pytest.fixture
def audit_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(audit_engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(audit_engine)


def draft(**changes: object) -> AuditDraft:
    """A plausible disclosure entry; tests change only what they look at."""
    fields: dict[str, object] = {
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "actor_party": "uwv-leiden",
        "actor_domain": "uwv",
        "action": "disclose",
        "subject_ref": "ps-audit-7f3a",
        "purpose": "reintegration",
        "categories": ("work.capacity", "care.involvement"),
        "consent_ids": ("c-2",),
        "decision_id": "d-1",
        "policy_revision": "sha256:abc",
        "outcome": Outcome.ALLOW,
        "reason": None,
        "payload_digest": "a" * 64,
    }
    fields.update(changes)
    return AuditDraft.model_validate(fields)

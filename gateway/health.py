"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text, update
from sqlalchemy.exc import SQLAlchemyError

from audit.checkpoint import latest_checkpoint
from gateway.core.db import WriterTimeout, read_transaction, transaction
from gateway.core.metrics import MetricsServer
from gateway.core.models import ReadinessProbe
from gateway.deps import RuntimeDep
from gateway.migrations.current import schema_is_current
from gateway.policy.engine import PolicyEngine
from gateway.policy.probes import Probe, failures
from gateway.runtime import Runtime
from plan.outbox import dead_letter_count

router = APIRouter(tags=["health"])
log = structlog.get_logger("gateway.health")


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database takes a write and the policy engine decides as expected",
    responses={503: {"description": "A dependency does not answer; the body says which"}},
)
def readyz(runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, Any] = {
        "database": _database_ready(runtime),
        "policy_engine": _policy_engine_ready(runtime.policy_engine, runtime.probes),
    }
    ready = all(value == "ok" for value in checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "policy_engine": runtime.policy_engine.name,
        "policy_revision": runtime.policy_engine.revision,
    }
    return JSONResponse(body, status_code=200 if ready else 503)


def _policy_engine_ready(engine: PolicyEngine, probes: list[Probe]) -> str:
    """The engine serves this gateway's revision and decides the probes as expected.

    Asks only: a probe changes nothing (policies are pushed at start-up, on reload, and again by
    the engine itself when a decision finds them gone).
    """
    if not engine.ready():
        log.warning("policy engine not ready", policy_engine=engine.name)
        return "unreachable, or not serving this gateway's policy revision"
    failed = failures(probes, engine.decide)
    if failed:
        log.warning("policy engine decides a probe otherwise", failure=failed[0])
        return "does not decide as its probes expect (see the log)"
    return "ok"


def serve_metrics(runtime: Runtime) -> MetricsServer | None:
    """``/metrics`` on ``SCHAKEL_METRICS_PORT`` when set, its gauges read at each scrape."""
    settings = runtime.settings
    if settings.metrics_port is None:
        return None

    def checkpoint_age() -> float:
        with read_transaction(runtime.sessions) as session:
            newest = latest_checkpoint(session)
        if newest is None:
            return -1.0
        return (runtime.clock() - newest.signed_at).total_seconds()

    def dead_letters() -> float:
        with read_transaction(runtime.sessions) as session:
            return float(dead_letter_count(session=session))

    runtime.metrics.measure_at_scrape(
        writer_queue=lambda: float(runtime.writer.queued),
        checkpoint_age=checkpoint_age,
        dead_letters=dead_letters,
    )
    return MetricsServer(runtime.metrics, settings.metrics_host, settings.metrics_port)


def _database_ready(runtime: RuntimeDep) -> str:
    """The schema is current and a write commits: a full disk, an immutable or read-only file, a
    read-only replica all make the gateway unready, though it still answers reads."""
    try:
        with runtime.database.connect() as connection:
            connection.execute(text("SELECT 1"))
            if not schema_is_current(connection):
                return "migrations pending: run `schakel migrate`"
        unwritable = _unwritable_sqlite_file(runtime.settings.effective_database_url)
        if unwritable is not None:
            return unwritable
        with transaction(runtime.sessions) as session:
            session.execute(
                update(ReadinessProbe)
                .where(ReadinessProbe.id == 1)
                .values(probed_at=runtime.clock())
            )
    except WriterTimeout:
        log.warning("database probe found no turn to write")
        return "busy: no turn to write in time"
    except SQLAlchemyError as error:
        log.warning("database probe failed", error=str(error).splitlines()[0])
        return "unreachable, or a write does not commit"
    return "ok"


def _unwritable_sqlite_file(url: str) -> str | None:
    """A SQLite file (or its folder) the process may not write: connections opened earlier can
    still commit to the write-ahead log, but it can never be checkpointed into the file."""
    if not url.startswith("sqlite:///"):
        return None
    database = Path(url.removeprefix("sqlite:///"))
    for path in (database, database.parent):
        if path.exists() and not os.access(path, os.W_OK):
            return f"cannot write {path.name or path}: read-only or immutable"
    return None

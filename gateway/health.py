"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from audit.guards import missing_guards
from gateway.deps import RuntimeDep
from gateway.migrations.current import schema_is_current
from gateway.policy.engine import PolicyEngine

router = APIRouter(tags=["health"])
log = structlog.get_logger("gateway.health")


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database and the policy engine answer; the audit log's guards are in place",
    responses={503: {"description": "A dependency does not answer; the body says which"}},
)
def readyz(runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, Any] = {
        "database": _database_ready(runtime),
        "audit_guards": _audit_guards_ready(runtime),
        "policy_engine": _policy_engine_ready(runtime.policy_engine),
    }
    ready = all(value == "ok" for value in checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "policy_engine": runtime.policy_engine.name,
        "policy_revision": runtime.policy_engine.revision,
    }
    return JSONResponse(body, status_code=200 if ready else 503)


def _policy_engine_ready(engine: PolicyEngine) -> str:
    """Asks only: a probe changes nothing (policies are pushed at start-up, on reload, and again
    by the engine itself when a decision finds them gone)."""
    if engine.ready():
        return "ok"
    log.warning("policy engine not ready", policy_engine=engine.name)
    return "unreachable, or not serving this gateway's policy revision"


def _database_ready(runtime: RuntimeDep) -> str:
    try:
        with runtime.database.connect() as connection:
            connection.execute(text("SELECT 1"))
            if not schema_is_current(connection):
                return "migrations pending: run `schakel migrate`"
    except SQLAlchemyError as error:
        log.warning("database probe failed", error=str(error).splitlines()[0])
        return "unreachable"
    return "ok"


def _audit_guards_ready(runtime: RuntimeDep) -> str:
    """The triggers that keep the audit log append-only are in place (audit/guards.py)."""
    try:
        with runtime.database.connect() as connection:
            missing = missing_guards(connection)
    except SQLAlchemyError as error:
        log.warning("audit guard probe failed", error=str(error).splitlines()[0])
        return "unreachable"
    if missing:
        log.error("audit log guards missing", missing=missing)
        return f"missing: {', '.join(missing)}"
    return "ok"

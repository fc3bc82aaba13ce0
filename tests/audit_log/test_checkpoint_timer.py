"""Checkpoints fall due on a timer too: an idle log's last entries get signed."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from audit.actions import Action
from audit.models import AuditCheckpoint
from audit.schemas import AuditDraft, Outcome
from gateway.audit_log.checkpointer import sign_if_due
from gateway.core.db import transaction
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.support import SettableClock, running_gateway

IDLE = AuditDraft(
    actor_party="uwv-leiden", actor_domain="uwv", action=Action.DENY, outcome=Outcome.DENY
)


def _checkpointed(runtime: Runtime) -> int:
    with transaction(runtime.sessions) as session:
        return int(session.scalar(select(func.coalesce(func.max(AuditCheckpoint.seq), 0))))


def test_an_idle_log_is_signed_once_its_oldest_entry_is_due(settings: Settings) -> None:
    clock = SettableClock()
    quiet = settings.model_copy(
        update={"audit_checkpoint_every_seconds": 60, "audit_checkpoint_interval_seconds": 0}
    )
    with running_gateway(quiet, clock) as (runtime, _):
        with transaction(runtime.sessions) as session:
            runtime.trail.append(session, IDLE)
        assert sign_if_due(runtime.sessions, runtime.trail) is None  # not due yet
        clock.advance(61)
        signed = sign_if_due(runtime.sessions, runtime.trail)
        assert signed is not None and signed.seq == 1
        assert sign_if_due(runtime.sessions, runtime.trail) is None  # nothing left unsigned


def test_the_gateway_signs_on_its_own_while_nobody_appends(settings: Settings) -> None:
    clock = SettableClock()
    ticking = settings.model_copy(
        update={"audit_checkpoint_every_seconds": 1, "audit_checkpoint_interval_seconds": 0.05}
    )
    with running_gateway(ticking, clock) as (runtime, _):
        with transaction(runtime.sessions) as session:
            runtime.trail.append(session, IDLE)
        clock.advance(2)
        deadline = time.monotonic() + 10
        while _checkpointed(runtime) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _checkpointed(runtime) == 1

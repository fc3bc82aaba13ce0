"""Operator endpoint: put edited policies in force without a restart (steps: ``gateway.policy.flow``)."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.deps import PartnerDep, RuntimeDep, SessionDep, TraceDep
from gateway.policy import flow
from gateway.policy.flow import PolicyReload

router = APIRouter(prefix="/v1/admin/policy", tags=["operators"])


@router.post(
    "/reload",
    summary="Read the policies again and put them in force (operator role)",
    responses={
        403: {"description": "The caller's party does not hold the operator role"},
        422: {"description": "A policy or data file does not load; the old revision stays"},
        503: {"description": "The policy engine cannot be asked"},
    },
)
def reload_policies(
    caller: PartnerDep, runtime: RuntimeDep, session: SessionDep, trace_id: TraceDep
) -> PolicyReload:
    return flow.reload_policies(session, runtime, trace_id, caller)

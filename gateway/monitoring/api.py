"""Regional monitoring over HTTP: a region's statistics office asks for a release, reads the
stored releases (JSON with their signature, or CSV) and its budget's ledger; a participant sees
what is counted about them and objects. Steps: ``gateway.monitoring`` (flow, participant)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response, status
from fastapi.responses import StreamingResponse

from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep, TraceDep
from gateway.monitoring import flow, reads
from gateway.monitoring import participant as counting
from gateway.monitoring.publish import csv_lines
from gateway.monitoring.schemas import (
    BudgetView,
    MyCounting,
    ReleaseRequest,
    ReleaseSummary,
    SignedRelease,
)
from gateway.problems import PROBLEM_JSON

router = APIRouter(prefix="/v1/monitoring", tags=["partner: regional monitoring"])
participant_router = APIRouter(prefix="/v1/me/monitoring", tags=["participant: monitoring"])
CSV = "text/csv"
ReleaseId = Annotated[str, Path(description="The release's id (a UUID)")]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {}}}


def _signed(description: str) -> dict[str, Any]:
    return {"description": description, "model": SignedRelease}


@router.post(
    "/releases",
    status_code=status.HTTP_201_CREATED,
    summary="Ask for a release of your region (the regional-statistics role)",
    response_model=None,
    responses={
        201: _signed("The release as stored and signed; it states its epsilon and protection"),
        403: _problem("Not your region, role or purpose: refused, on record"),
        409: _problem("The release would exceed the region's privacy budget: refused, on record"),
        422: _problem("A field does not hold; `errors` names each by JSON Pointer"),
        503: _problem("The policy engine cannot decide: nothing is counted or spent"),
    },
)
def ask_release(
    body: ReleaseRequest,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> Response:
    """Counts one trajectory per participant the region may count, by municipality or
    subregion, method, outcome and quarter; durations in bands with medians; obstacles by
    code. Every count gets OpenDP noise and small counts are suppressed with their
    complements; the release spends its epsilon from the region's budget for the year."""
    published = flow.release(session, runtime, trace_id, caller, body)
    return Response(
        published.body,
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
        headers={"Location": f"/v1/monitoring/releases/{published.id}"},
    )


@router.get("/releases", summary="The newest releases of your regions")
def list_releases(
    caller: PartnerDep, runtime: RuntimeDep, session: SessionDep
) -> list[ReleaseSummary]:
    return reads.summaries(session, runtime, caller)


@router.get(
    "/releases/{release_id}",
    summary="A stored release, as it was published: JSON with its signature, or CSV",
    response_model=None,
    responses={
        200: {
            **_signed("The stored release and its detached JWS (`Accept: text/csv`: the figures)"),
            "content": {CSV: {"schema": {"type": "string"}}},
        },
    },
)
def read_release(
    release_id: ReleaseId,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    stored = reads.stored_release(session, runtime, caller, release_id)
    if accept is not None and CSV in accept and "json" not in accept:
        lines = list(csv_lines(json.loads(stored.document)))
        return StreamingResponse(
            iter(lines),
            media_type=f"{CSV}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="release-{stored.id}.csv"'},
        )
    return Response(flow.body(runtime, stored), media_type="application/json")


@router.get(
    "/budget",
    summary="Your region's privacy budget for a year, and its ledger",
    responses={
        404: _problem(
            "Not one of your regions: one you may not read is not found, as an unknown one"
        )
    },
)
def read_budget(
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    region: Annotated[str, Query(min_length=1, max_length=64, description="A region")],
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Default this year")] = None,
) -> BudgetView:
    return reads.budget_of(session, runtime, caller, region, year)


@participant_router.get("", summary="What regional monitoring counts about me, where and why")
def my_counting(
    participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> MyCounting:
    return counting.my_counting(session, runtime, participant)


@participant_router.put("/objection", summary="Object to being counted: no later release counts me")
def object_to_counting(
    participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep, trace_id: TraceDep
) -> MyCounting:
    return counting.set_objection(session, runtime, trace_id, participant, objected=True)


@participant_router.delete("/objection", summary="Lift my objection: later releases may count me")
def lift_objection(
    participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep, trace_id: TraceDep
) -> MyCounting:
    return counting.set_objection(session, runtime, trace_id, participant, objected=False)

"""Reading what the monitoring area stored, for the API, the page and the CLI: the regions a
caller receives, the stored releases (served as stored, never re-run), the budget and its
ledger, and an operator's reproduction of a release from its sealed draw."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.auth.access_tokens import Caller
from gateway.errors import NotFound
from gateway.monitoring.flow import may_receive, query_of, vocabulary
from gateway.monitoring.population import Requester, count, region_of
from gateway.monitoring.publish import canonical, open_draw
from gateway.monitoring.schemas import (
    MONITORING_PURPOSE,
    STATISTICS_ROLE,
    BudgetView,
    LedgerLine,
    ReleaseRequest,
    ReleaseSummary,
)
from gateway.runtime import Runtime
from monitoring import service
from monitoring.errors import ReleaseNotFound
from monitoring.models import Release
from monitoring.release import build
from monitoring.tables import Context, population


def readable_regions(runtime: Runtime, caller: Caller) -> list[str]:
    """The regions whose releases the caller receives (the policy decides, per region)."""
    if MONITORING_PURPOSE not in caller.purposes or STATISTICS_ROLE not in caller.roles:
        return []
    requester = Requester(caller.party, caller.domain)
    return [region for region in sorted(runtime.catalogue.monitoring)
            if may_receive(runtime, requester, region)]  # fmt: skip


def stored_release(session: Session, runtime: Runtime, caller: Caller, release_id: str) -> Release:
    """A stored release of one of the caller's regions; any other is not found."""
    try:
        return service.find_release(
            session, release_id=release_id, regions=readable_regions(runtime, caller)
        )
    except ReleaseNotFound:
        raise NotFound(f"no release {release_id} of your regions") from None


def summaries(session: Session, runtime: Runtime, caller: Caller) -> list[ReleaseSummary]:
    """The newest releases of the caller's regions, newest first."""
    return [
        ReleaseSummary(
            id=r.id,
            region=r.region,
            created_at=r.created_at,
            requested_by=r.requested_by,
            epsilon=r.epsilon,
        )
        for r in service.releases_of(session, regions=readable_regions(runtime, caller))
    ]


def budget_of(
    session: Session, runtime: Runtime, caller: Caller, region: str, year: int | None
) -> BudgetView:
    """The region's budget for the year and the ledger of its releases."""
    if region not in readable_regions(runtime, caller):
        raise NotFound(f"no budget of {region} for you")
    year = year or runtime.clock().year
    total = runtime.catalogue.monitoring[region].epsilon_per_year
    spent = service.spent(session, region=region, year=year)
    lines = [
        LedgerLine(
            release_id=e.release_id,
            party=e.party,
            epsilon=e.epsilon,
            spent_after=e.spent_after,
            at=e.at,
        )
        for e in service.ledger(session, region=region, year=year)
    ]
    return BudgetView(
        region=region, year=year, total=total, spent=spent, left=max(total - spent, 0.0),
        ledger=lines,
    )  # fmt: skip


# --- reproducing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reproduction:
    """A stored release rebuilt from today's facts with its own draw: ``same_facts`` when the
    facts counted are those of then, ``same_tables`` when the tables come out the same."""

    same_facts: bool
    same_tables: bool


def reproduce(session: Session, runtime: Runtime, release_id: str) -> Reproduction:
    """Rebuild a stored release with its sealed draw (an operator's check, not a publication)."""
    stored = session.get(Release, release_id)
    if stored is None:
        raise NotFound(f"no release {release_id}")
    document = json.loads(stored.document)
    asked = document["query"]
    request = ReleaseRequest(
        region=stored.region, since=asked["since"], until=asked["until"], area=asked["area"],
        municipalities=asked["municipalities"], methods=asked["methods"],
        epsilon=(document["protection"]["differential_privacy"] or {}).get("asked") or 1.0,
    )  # fmt: skip
    query = query_of(runtime, request)
    requester = Requester(stored.requested_by, "region")
    counting = count(session, runtime, requester, query, now=runtime.clock())
    context = Context(query, region_of(runtime, query.region), vocabulary(runtime))
    rebuilt = build(
        population(counting.persons, context), context,
        threshold=document["protection"]["suppression"]["threshold"], noise=None,
        draw=open_draw(runtime.keks, stored),
    )  # fmt: skip
    same = canonical({"t": rebuilt.tables, "m": rebuilt.medians}) == canonical(
        {"t": document["tables"], "m": document["medians"]}
    )
    return Reproduction(same_facts=counting.digest == stored.facts_digest, same_tables=same)

"""The obstacle register: the obstacles of every case's newest outcome, counted by code, region,
period (a calendar quarter of the conference's start, UTC) and the party type it lies with.

Nobody is named: a row says what kind of obstacle, where and when, never about whom, and the
counts are published through ``suppression`` so that a small count singles nobody out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conference.models import Case, Conference, Outcome
from conference.schemas import ObstacleRow
from suppression import Table, suppress

DIMENSIONS = ("code", "region", "period", "domain")


def quarter(at: date | datetime) -> str:
    """``2026-Q4``: the period an obstacle is counted in."""
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}"


def quarters(first: date, last: date) -> list[str]:
    """Every quarter from the one holding ``first`` to the one holding ``last``, in order."""
    found: list[str] = []
    year, index = first.year, (first.month - 1) // 3
    while (year, index) <= (last.year, (last.month - 1) // 3):
        found.append(f"{year}-Q{index + 1}")
        year, index = (year + 1, 0) if index == 3 else (year, index + 1)
    return found


def obstacle_rows(
    *, session: Session, since: datetime, until: datetime, region: str | None = None
) -> list[ObstacleRow]:
    """The obstacles of the newest outcome of each case of conferences starting in the period."""
    newest = (
        select(Outcome.case_id, func.max(Outcome.version).label("version"))
        .group_by(Outcome.case_id)
        .subquery()
    )
    query = (
        select(Outcome.obstacles, Conference.region, Conference.starts_at)
        .join(newest, (Outcome.case_id == newest.c.case_id) & (Outcome.version == newest.c.version))
        .join(Conference, Conference.id == Outcome.conference_id)
        .where(Conference.starts_at >= since, Conference.starts_at < until)
    )
    if region is not None:
        query = query.where(Conference.region == region)
    return [
        ObstacleRow(
            code=str(obstacle["code"]),
            region=conference_region,
            period=quarter(starts_at),
            domain=str(obstacle["domain"]),
        )
        for obstacles, conference_region, starts_at in session.execute(query).all()
        for obstacle in obstacles
    ]


def obstacles_by_participant(
    *, session: Session, since: datetime, until: datetime, region: str
) -> dict[str, list[str]]:
    """The obstacle codes of the newest outcome of each case of the region's conferences starting
    in the period, per participant, in the order recorded, each code once."""
    newest = (
        select(Outcome.case_id, func.max(Outcome.version).label("version"))
        .group_by(Outcome.case_id)
        .subquery()
    )
    query = (
        select(Case.participant_id, Outcome.obstacles)
        .join(newest, (Outcome.case_id == newest.c.case_id) & (Outcome.version == newest.c.version))
        .join(Case, Case.id == Outcome.case_id)
        .join(Conference, Conference.id == Outcome.conference_id)
        .where(Conference.region == region)
        .where(Conference.starts_at >= since, Conference.starts_at < until)
        .order_by(Conference.starts_at, Outcome.recorded_at)
    )
    found: dict[str, list[str]] = {}
    for participant_id, obstacles in session.execute(query).all():
        codes = found.setdefault(participant_id, [])
        codes.extend(str(o["code"]) for o in obstacles if str(o["code"]) not in codes)
    return found


def register_table(
    rows: Sequence[ObstacleRow],
    *,
    group_by: Sequence[str],
    values: Mapping[str, Sequence[str]],
    threshold: int,
) -> Table:
    """The counts over ``group_by`` (dimensions of ``DIMENSIONS``), small counts suppressed.

    ``values`` lists every value of each dimension (the vocabulary, the regions, the quarters
    of the period, the party types), so that a zero is shown as a zero, not left out.
    """
    unknown = [dimension for dimension in group_by if dimension not in DIMENSIONS]
    if unknown or not group_by:
        raise ValueError(f"group by one or more of {', '.join(DIMENSIONS)}")
    known = {dimension: set(values[dimension]) for dimension in group_by}
    counts = Counter(
        tuple(getattr(row, dimension) for dimension in group_by)
        for row in rows
        if all(getattr(row, dimension) in known[dimension] for dimension in group_by)
    )
    return suppress(
        counts,
        dimensions=group_by,
        values=[values[dimension] for dimension in group_by],
        threshold=threshold,
    )

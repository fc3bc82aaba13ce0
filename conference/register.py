"""The obstacle register: the people whose case's newest outcome names an obstacle, counted by
code, region, period (a calendar quarter of the conference's start, UTC) and the party type the
obstacle lies with.

Nobody is named: a row says what kind of obstacle, where and when, never about whom. A cell
counts distinct people, so someone discussed at several meetings counts once. Every answer is
read from one protected table per quarter (code x region x domain with every sub-total,
suppressed once through ``suppression``): a figure is that table's published count or a sum of
them, so no combination of answers, whatever they group by, filter on or span, gives back a
count the table withholds.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conference.models import Case, Conference, Outcome
from suppression import COMPLEMENTARY, Count, Table, suppress

DIMENSIONS = ("code", "region", "period", "domain")
PROTECTED = ("code", "region", "domain")  # one protected table of these per period


@dataclass(frozen=True)
class Mention:
    """One person with one obstacle in the register: who stays inside, never published."""

    participant_id: str
    code: str
    region: str
    period: str
    domain: str


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


def whole_quarters(first: date, last: date) -> tuple[date, date]:
    """The first day of ``first``'s quarter and the last day of ``last``'s: the period counted,
    so that two periods a day apart count the same conferences."""
    start = date(first.year, (first.month - 1) // 3 * 3 + 1, 1)
    last_month = (last.month - 1) // 3 * 3 + 3
    following = (
        date(last.year + 1, 1, 1) if last_month == 12 else date(last.year, last_month + 1, 1)
    )
    return start, following - timedelta(days=1)


def mentions(*, session: Session, since: datetime, until: datetime) -> list[Mention]:
    """Each person with each obstacle (code and party type) of the newest outcome of their case,
    per quarter of the conferences starting in the period, in every region; each once."""
    newest = (
        select(Outcome.case_id, func.max(Outcome.version).label("version"))
        .group_by(Outcome.case_id)
        .subquery()
    )
    query = (
        select(Case.participant_id, Outcome.obstacles, Conference.region, Conference.starts_at)
        .join(newest, (Outcome.case_id == newest.c.case_id) & (Outcome.version == newest.c.version))
        .join(Case, Case.id == Outcome.case_id)
        .join(Conference, Conference.id == Outcome.conference_id)
        .where(Conference.starts_at >= since, Conference.starts_at < until)
    )
    found = {
        Mention(
            participant_id=participant_id,
            code=str(obstacle["code"]),
            region=region,
            period=quarter(starts_at),
            domain=str(obstacle["domain"]),
        )
        for participant_id, obstacles, region, starts_at in session.execute(query).all()
        for obstacle in obstacles
    }
    return sorted(found, key=lambda m: (m.period, m.code, m.region, m.domain, m.participant_id))


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


def protected_tables(
    found: Sequence[Mention],
    *,
    periods: Sequence[str],
    values: Mapping[str, Sequence[str]],
    threshold: int,
) -> dict[str, Table]:
    """Per period, the distinct people over code x region x domain with every sub-total, small
    counts suppressed so that no suppressed count follows from the published ones.

    ``values`` lists every code, region and party type, so that a zero is shown as a zero; a
    period's table depends on that period's conferences alone, never on the question asked.
    """
    known = {dimension: set(values[dimension]) for dimension in PROTECTED}
    tables = {}
    for period in periods:
        people: dict[tuple[str, ...], set[str]] = {}
        for mention in found:
            key = tuple(getattr(mention, dimension) for dimension in PROTECTED)
            inside = all(v in known[d] for d, v in zip(PROTECTED, key, strict=True))
            if mention.period == period and inside:
                people.setdefault(key, set()).add(mention.participant_id)
        tables[period] = suppress(
            {key: len(persons) for key, persons in people.items()},
            dimensions=PROTECTED,
            values=[values[dimension] for dimension in PROTECTED],
            threshold=threshold,
            protect_complements=True,
            totals=[kept for size in (1, 2) for kept in itertools.combinations(PROTECTED, size)],
            people={key: frozenset(persons) for key, persons in people.items()},
        )
    return tables


def register_table(
    tables: Mapping[str, Table],
    *,
    group_by: Sequence[str],
    values: Mapping[str, Sequence[str]],
    region: str | None = None,
) -> Table:
    """The counts over ``group_by`` (dimensions of ``DIMENSIONS``), read from the protected
    tables of the periods in ``values["period"]``, within ``region`` when given.

    A figure is a protected count, or the sum of one per period when every one of them is
    published; else it is withheld, so the answer tells nothing the tables do not.
    """
    unknown = [dimension for dimension in group_by if dimension not in DIMENSIONS]
    if unknown or not group_by:
        raise ValueError(f"group by one or more of {', '.join(DIMENSIONS)}")
    index = {period: _by_values(table) for period, table in tables.items()}
    within = {"region": region} if region is not None else {}
    shown = [values[d] if d != "region" or region is None else [region] for d in group_by]

    def figure(fixed: Mapping[str, str]) -> Count:
        asked = {**within, **fixed}
        periods = [asked["period"]] if "period" in asked else list(values["period"])
        key = frozenset((d, v) for d, v in asked.items() if d != "period")
        parts = [index[period][key] for period in periods]
        label = tuple(fixed[d] for d in group_by if d in fixed)
        if all(part.suppressed is None for part in parts):
            return Count(label, sum(part.value or 0 for part in parts), None)
        # Withheld as the one part that is not a published zero is, else for that part's sake.
        open_parts = [part for part in parts if part.value != 0]
        reason = open_parts[0].suppressed if len(open_parts) == 1 else COMPLEMENTARY
        return Count(label, None, reason)

    margins = {}
    if len(group_by) > 1:
        margins = {
            dimension: tuple(figure({dimension: v}) for v in shown[axis])
            for axis, dimension in enumerate(group_by)
        }
    return Table(
        dimensions=tuple(group_by),
        threshold=next(iter(tables.values())).threshold,
        cells=tuple(
            figure(dict(zip(group_by, key, strict=True))) for key in itertools.product(*shown)
        ),
        margins=margins,
        total=figure({}),
    )


def _by_values(table: Table) -> dict[frozenset[tuple[str, str]], Count]:
    """Every count of a protected table by the values it is for."""
    counts = {frozenset(zip(table.dimensions, c.key, strict=True)): c for c in table.cells}
    for names, subtotals in table.subtotals.items():
        counts.update({frozenset(zip(names, c.key, strict=True)): c for c in subtotals})
    counts[frozenset()] = table.total
    return counts

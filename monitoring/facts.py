"""Trajectories from the facts partners contributed (``trajectory.start``, ``.milestone``,
``.outcome``), tied by the source's own reference; a fact sent again replaces the older one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

START, MILESTONE, OUTCOME = "trajectory.start", "trajectory.milestone", "trajectory.outcome"
CATEGORIES = (START, MILESTONE, OUTCOME)


@dataclass(frozen=True)
class Fact:
    """One decrypted contribution of a trajectory category."""

    category: str
    source: str
    observed_at: datetime
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Trajectory:
    """One trajectory of one participant as the newest facts of its source describe it."""

    source: str
    reference: str
    method: str
    provider: str | None
    municipality: str
    started_on: date
    milestones: Mapping[str, date] = field(default_factory=dict)
    outcome: str | None = None
    ended_on: date | None = None
    hours_per_week: int | None = None


def trajectories(facts: Iterable[Fact]) -> list[Trajectory]:
    """Every trajectory that has a start, in order of start; facts without one are left out."""
    newest: dict[tuple[str, str, str], Fact] = {}
    reached: dict[tuple[str, str], dict[str, date]] = {}
    for fact in sorted(facts, key=lambda f: f.observed_at):
        key = (fact.source, str(fact.fields.get("reference", "")))
        if fact.category == MILESTONE:
            code, on = fact.fields.get("milestone"), _date(fact.fields.get("reached_on"))
            if isinstance(code, str) and on is not None:
                reached.setdefault(key, {})[code] = on
        elif fact.category in (START, OUTCOME):
            newest[(fact.category, *key)] = fact
    found = []
    for (category, source, reference), start in newest.items():
        if category != START:
            continue
        started_on = _date(start.fields.get("started_on"))
        if started_on is None:
            continue
        outcome = newest.get((OUTCOME, source, reference))
        hours = outcome.fields.get("hours_per_week") if outcome else None
        found.append(
            Trajectory(
                source=source,
                reference=reference,
                method=str(start.fields.get("method", "other")),
                provider=_text(start.fields.get("provider")),
                municipality=str(start.fields.get("municipality", "")),
                started_on=started_on,
                milestones=reached.get((source, reference), {}),
                outcome=_text(outcome.fields.get("outcome")) if outcome else None,
                ended_on=_date(outcome.fields.get("ended_on")) if outcome else None,
                hours_per_week=hours if isinstance(hours, int) else None,
            )
        )
    return sorted(found, key=lambda t: (t.started_on, t.source, t.reference))


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

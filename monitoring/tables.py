"""What a release counts: the query, the region, the people counted, and each table's cells.

One trajectory per person is counted (the newest that started in the period and matches the
query), so one person adds at most one row to each table and at most ``MAX_OBSTACLES`` rows to
the obstacle table: the sensitivities the privacy map is given. A table counts a person only
when every category it reads may be counted for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from monitoring.facts import MILESTONE, OUTCOME, START, Trajectory

ONGOING = "ongoing"
NO_MILESTONE = "none"
DURATION_BANDS = ("under-3-months", "3-to-6-months", "6-to-12-months", "12-months-or-more")
HOURS_BANDS = ("under-12-hours", "12-to-24-hours", "24-hours-or-more", "hours-unknown")
MAX_OBSTACLES = 2
Area = Literal["municipality", "subregion"]
SEPARATOR = "|"


@dataclass(frozen=True)
class Vocabulary:
    """The codes of each dimension, passed in by the gateway (adapters and catalogue)."""

    methods: tuple[str, ...]
    outcomes: tuple[str, ...]
    milestones: tuple[str, ...]
    obstacles: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    """A region's municipalities (CBS codes), each with its subregion."""

    id: str
    subregion_of: Mapping[str, str]


@dataclass(frozen=True)
class Query:
    """What a release counts: trajectories started from ``since`` to ``until`` (inclusive) in the
    region, by municipality or subregion, optionally only some municipalities or methods."""

    region: str
    since: date
    until: date
    area: Area
    municipalities: tuple[str, ...]
    methods: tuple[str, ...]
    epsilon: float


@dataclass(frozen=True)
class Person:
    """One participant as counted: their trajectories, the categories the policy lets the
    release count, and the obstacle codes of their case conferences in the period."""

    trajectories: Sequence[Trajectory]
    allowed: frozenset[str]
    obstacles: Sequence[str] = ()


def quarter(on: date) -> str:
    """``2026-Q4``."""
    return f"{on.year}-Q{(on.month - 1) // 3 + 1}"


def quarters(first: date, last: date) -> tuple[str, ...]:
    """Every quarter from the one holding ``first`` to the one holding ``last``."""
    index, end = first.year * 4 + (first.month - 1) // 3, last.year * 4 + (last.month - 1) // 3
    return tuple(f"{i // 4}-Q{i % 4 + 1}" for i in range(index, end + 1))


def counted(person: Person, query: Query, region: Region) -> Trajectory | None:
    """The newest trajectory that started in the period and matches the query, if any."""
    chosen = None
    for trajectory in person.trajectories:
        if not query.since <= trajectory.started_on <= query.until:
            continue
        if trajectory.municipality not in region.subregion_of:
            continue
        if query.municipalities and trajectory.municipality not in query.municipalities:
            continue
        if query.methods and trajectory.method not in query.methods:
            continue
        chosen = trajectory  # in order of start: the last one is the newest
    return chosen


def duration_band(trajectory: Trajectory) -> str | None:
    if trajectory.ended_on is None:
        return None
    months = (trajectory.ended_on - trajectory.started_on).days / 30.4375
    limits = ((3, DURATION_BANDS[0]), (6, DURATION_BANDS[1]), (12, DURATION_BANDS[2]))
    return next((band for limit, band in limits if months < limit), DURATION_BANDS[3])


def hours_band(trajectory: Trajectory) -> str | None:
    if trajectory.outcome != "paid-work":
        return None
    hours = trajectory.hours_per_week
    if hours is None:
        return HOURS_BANDS[3]
    return HOURS_BANDS[0] if hours < 12 else HOURS_BANDS[1] if hours < 24 else HOURS_BANDS[2]


def furthest_milestone(trajectory: Trajectory, order: Sequence[str]) -> str:
    reached = [code for code in order if code in trajectory.milestones]
    return reached[-1] if reached else NO_MILESTONE


@dataclass(frozen=True)
class Counted:
    """A counted person's trajectory with what the tables read of it."""

    trajectory: Trajectory
    allowed: frozenset[str]
    obstacles: tuple[str, ...]


Keys = Callable[[Counted, "Context"], list[tuple[str, ...]]]


@dataclass(frozen=True)
class Context:
    query: Query
    region: Region
    vocabulary: Vocabulary

    def area_of(self, municipality: str) -> str:
        if self.query.area == "municipality":
            return municipality
        return self.region.subregion_of[municipality]

    def values(self, dimension: str) -> tuple[str, ...]:
        """Every value of a dimension, so that a zero is shown as a zero, not left out."""
        query, vocabulary = self.query, self.vocabulary
        municipalities = query.municipalities or tuple(sorted(self.region.subregion_of))
        found: dict[str, tuple[str, ...]] = {
            "method": query.methods or vocabulary.methods,
            "outcome": (*vocabulary.outcomes, ONGOING),
            "quarter": quarters(query.since, query.until),
            "area": tuple(sorted({self.area_of(m) for m in municipalities})),
            "duration": DURATION_BANDS,
            "hours": HOURS_BANDS,
            "milestone": (NO_MILESTONE, *vocabulary.milestones),
            "obstacle": vocabulary.obstacles,
        }
        return found[dimension]


@dataclass(frozen=True)
class TableSpec:
    """One table of a release: its dimensions, its share of the release's epsilon, how many rows
    one person adds at most, the categories it reads, and the rows of one person."""

    name: str
    dimensions: tuple[str, ...]
    weight: float
    sensitivity: int
    reads: frozenset[str]
    keys: Keys


def _outcome(counted: Counted) -> str:
    return counted.trajectory.outcome or ONGOING


def _one(*values: str | None) -> list[tuple[str, ...]]:
    return [] if any(value is None for value in values) else [tuple(str(v) for v in values)]


TABLES: tuple[TableSpec, ...] = (
    TableSpec("method_outcome", ("method", "outcome"), 2, 1, frozenset({START, OUTCOME}),
              lambda c, _: _one(c.trajectory.method, _outcome(c))),
    TableSpec("quarter_outcome", ("quarter", "outcome"), 2, 1, frozenset({START, OUTCOME}),
              lambda c, _: _one(quarter(c.trajectory.started_on), _outcome(c))),
    TableSpec("area_outcome", ("area", "outcome"), 2, 1, frozenset({START, OUTCOME}),
              lambda c, x: _one(x.area_of(c.trajectory.municipality), _outcome(c))),
    TableSpec("method_duration", ("method", "duration"), 1, 1, frozenset({START, OUTCOME}),
              lambda c, _: _one(c.trajectory.method, duration_band(c.trajectory))),
    TableSpec("paid_work_hours", ("hours",), 1, 1, frozenset({START, OUTCOME}),
              lambda c, _: _one(hours_band(c.trajectory))),
    TableSpec("method_milestone", ("method", "milestone"), 1, 1, frozenset({START, MILESTONE}),
              lambda c, x: _one(c.trajectory.method,
                                furthest_milestone(c.trajectory, x.vocabulary.milestones))),
    TableSpec("obstacles", ("obstacle",), 1, MAX_OBSTACLES, frozenset({START}),
              lambda c, _: [(code,) for code in c.obstacles[:MAX_OBSTACLES]]),
)  # fmt: skip


def population(persons: Sequence[Person], context: Context) -> list[Counted]:
    """The people the release counts, each with the one trajectory counted."""
    found = []
    for person in persons:
        trajectory = counted(person, context.query, context.region)
        if trajectory is not None and person.allowed:
            codes = tuple(
                dict.fromkeys(c for c in person.obstacles if c in context.vocabulary.obstacles)
            )
            found.append(Counted(trajectory, person.allowed, codes))
    return found


def rows(spec: TableSpec, people: Sequence[Counted], context: Context) -> list[str]:
    """The table's rows: one key per person (``sensitivity`` at most), joined for OpenDP."""
    values = [set(context.values(d)) for d in spec.dimensions]
    found = []
    for person in people:
        if not spec.reads <= person.allowed:
            continue
        for key in spec.keys(person, context)[: spec.sensitivity]:
            if all(part in known for part, known in zip(key, values, strict=True)):
                found.append(SEPARATOR.join(key))
    return found

"""People as the release builder counts them, made up without a database, for the attacks that
need hundreds of releases (each with a fresh draw of OpenDP's noise)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from adapters.vocabulary import TRAJECTORY_METHODS, TRAJECTORY_MILESTONES, TRAJECTORY_OUTCOMES
from monitoring.facts import CATEGORIES, Trajectory
from monitoring.noise import OpenDpNoise
from monitoring.release import Built, build
from monitoring.tables import Context, Person, Query, Region, Vocabulary, population

REGION = Region(
    "holland-rijnland",
    {"GM0546": "leidse-regio", "GM0547": "leidse-regio", "GM0553": "duin-en-bollenstreek"},
)
VOCABULARY = Vocabulary(TRAJECTORY_METHODS, TRAJECTORY_OUTCOMES, TRAJECTORY_MILESTONES,
                        ("debts", "housing", "transport"))  # fmt: skip


def person(
    index: int,
    *,
    method: str = "ips",
    outcome: str | None = "paid-work",
    municipality: str = "GM0546",
    started: date = date(2026, 2, 2),
    obstacles: tuple[str, ...] = (),
) -> Person:
    ended = started + timedelta(days=100) if outcome else None
    trajectory = Trajectory(
        source="dzb-leiden", reference=f"T-{index}", method=method, provider=None,
        municipality=municipality, started_on=started, milestones={"intake": started},
        outcome=outcome, ended_on=ended, hours_per_week=20 if outcome == "paid-work" else None,
    )  # fmt: skip
    return Person([trajectory], frozenset(CATEGORIES), obstacles)


def query(**changes: Any) -> Query:
    fields: dict[str, Any] = {
        "region": "holland-rijnland", "since": date(2026, 1, 1), "until": date(2026, 12, 31),
        "area": "subregion", "municipalities": (), "methods": (), "epsilon": 2.0, **changes,
    }  # fmt: skip
    return Query(**fields)


def release(persons: list[Person], protected: bool = True, **changes: Any) -> Built:
    context = Context(query(**changes), REGION, VOCABULARY)
    noise = OpenDpNoise() if protected else None
    return build(population(persons, context), context, threshold=10, noise=noise)


def cells(built: Built, name: str) -> dict[tuple[str, ...], int | None]:
    shown = next(t for t in built.tables if t["name"] == name)
    return {tuple(c["values"].values()): c["count"] for c in shown["cells"]}

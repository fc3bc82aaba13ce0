"""The attacks a release must withstand, each tried against the release builder with OpenDP's
real noise, many times (every release a fresh draw): differencing two releases whose filters
differ by one person, the same inside a municipality of fewer than k, and suppressed counts
given back by the published totals. Each attack gets no further than the epsilon the release
states allows; with the protection switched off, the differencing attack wins every time.

The budget attack (many small releases) goes through the API: test_budget.py.
"""

from __future__ import annotations

import math
import random
from datetime import date
from typing import Any

import pytest

from adapters.vocabulary import TRAJECTORY_OUTCOMES
from monitoring.release import Built
from monitoring.tables import Person
from tests.monitoring.disclosure_check import given_back, sums_hold
from tests.monitoring.people import person, release

TRIALS = 100
# Tables that show the outcome of a trajectory: what a differencing attacker compares.
OUTCOME_TABLES = {"method_outcome": "ips", "quarter_outcome": "2026-Q1", "area_outcome": None}


def _outcome_cells(built: Built, target_area: str) -> dict[str, int]:
    """Per outcome, the sum over the outcome tables of the cell that holds the target's row."""
    found = dict.fromkeys(TRAJECTORY_OUTCOMES, 0)
    for shown in built.tables:
        if shown["name"] not in OUTCOME_TABLES:
            continue
        row = OUTCOME_TABLES[shown["name"]] or target_area
        for cell in shown["cells"]:
            values = list(cell["values"].values())
            if values[0] == row and values[1] in found and cell["count"] is not None:
                found[values[1]] += cell["count"]
    return found


def _epsilon(built: Built) -> float:
    return sum(t["epsilon"] or 0 for t in built.tables if t["name"] in OUTCOME_TABLES)


def differencing(
    others: list[Person], *, protected: bool, municipality: str, target_area: str, **query: Any
) -> tuple[float, float]:
    """The attacker asks for a release from 1 January and one from 2 January: only the target
    started on 1 January. The outcome whose cells grew most is the guess. Returns the share of
    right guesses and the epsilon of the tables compared."""
    rng = random.Random(20261208)
    hits, epsilon = 0, 0.0
    for trial in range(TRIALS):
        secret = rng.choice(TRAJECTORY_OUTCOMES)
        target = person(90_000 + trial, outcome=secret, started=date(2026, 1, 1),
                        municipality=municipality)  # fmt: skip
        everyone = [*others, target]
        first = release(everyone, protected, since=date(2026, 1, 1), **query)
        second = release(everyone, protected, since=date(2026, 1, 2), **query)
        grown = _outcome_cells(first, target_area)
        before = _outcome_cells(second, target_area)
        guess = max(TRAJECTORY_OUTCOMES, key=lambda o: (grown[o] - before[o], rng.random()))
        hits += guess == secret
        epsilon = _epsilon(first)
    return hits / TRIALS, epsilon


def dp_bound(epsilon: float, choices: int = len(TRAJECTORY_OUTCOMES)) -> float:
    """The most often any guess of one of ``choices`` equally likely outcomes can be right, when
    changing the target's outcome (a row removed and one added) changes the odds of any
    published result by at most e^(2 epsilon); with a margin of four standard errors."""
    odds = math.exp(2 * epsilon)
    bound = odds / (odds + choices - 1)
    return bound + 4 * math.sqrt(bound * (1 - bound) / TRIALS)


def _crowd() -> list[Person]:
    """Twenty-five people per outcome in Leiden, so no cell the target joins is small."""
    return [
        person(index, outcome=outcome, municipality="GM0546")
        for index, outcome in enumerate(o for o in TRAJECTORY_OUTCOMES for _ in range(25))
    ]


def test_differencing_two_releases_one_person_apart_learns_no_more_than_epsilon_allows() -> None:
    success, epsilon = differencing(
        _crowd(), protected=True, municipality="GM0546", target_area="leidse-regio"
    )
    assert 0 < epsilon < 2.0
    assert success <= dp_bound(epsilon), (success, dp_bound(epsilon))


def test_differencing_wins_every_time_when_the_protection_is_switched_off() -> None:
    """The attack of the test above, without noise: its bound would fail (suppression alone
    leaves cells of 25 and 26 published, and their difference is the person)."""
    success, epsilon = differencing(
        _crowd(), protected=False, municipality="GM0546", target_area="leidse-regio"
    )
    assert epsilon == 0 and success == 1.0
    assert success > dp_bound(1.2)


def test_a_municipality_of_fewer_than_k_shows_no_small_count_and_hides_its_people() -> None:
    lisse = [person(i, outcome="paid-work", municipality="GM0553") for i in range(2)]
    others = [*_crowd(), *lisse]
    shown: list[int] = []
    for _ in range(40):
        built = release([*others, person(99, municipality="GM0553")], area="municipality")
        area = next(t for t in built.tables if t["name"] == "area_outcome")
        lisse_counts = [c["count"] for c in area["cells"] if c["values"]["area"] == "GM0553"]
        lisse_counts += [c["count"] for c in area["margins"]["area"]
                         if c["values"]["area"] == "GM0553"]  # fmt: skip
        shown += [count for count in lisse_counts if count is not None]
    assert all(count == 0 or count >= 10 for count in shown)
    # One of Lisse's three is no easier to find than in a crowd: the same bound holds.
    success, epsilon = differencing(
        others, protected=True, municipality="GM0553", target_area="GM0553", area="municipality"
    )
    assert success <= dp_bound(epsilon)


@pytest.mark.parametrize("protected", [True, False])
def test_no_suppressed_count_follows_from_the_published_totals(protected: bool) -> None:
    """A lone small cell (three in Lisse) whose row and column totals are published: without
    complements it would be their difference. Checked with an independent exact rank."""
    persons = [*_crowd(), *(person(900 + i, outcome="education", municipality="GM0553")
                            for i in range(3))]  # fmt: skip
    for _ in range(25 if protected else 1):
        built = release(persons, protected, area="municipality")
        for shown in built.tables:
            assert given_back(shown) == [], shown["name"]
            assert sums_hold(shown)
        suppressed = [c for t in built.tables for c in t["cells"] if c["suppressed"]]
        if not protected:
            assert any(c["suppressed"] == "complementary" for c in suppressed)


def test_the_independent_check_finds_a_count_the_totals_give_back() -> None:
    """The check above has teeth: a table with one cell withheld and its totals published."""
    cell = {"values": {"area": "GM0553", "outcome": "education"}, "count": None,
            "suppressed": "primary"}  # fmt: skip
    other = {"values": {"area": "GM0553", "outcome": "paid-work"}, "count": 20, "suppressed": None}
    shown = {
        "cells": [cell, other],
        "margins": {"area": [{"values": {"area": "GM0553"}, "count": 23, "suppressed": None}],
                    "outcome": []},
        "total": {"values": {}, "count": 23, "suppressed": None},
    }  # fmt: skip
    assert given_back(shown) == [cell]

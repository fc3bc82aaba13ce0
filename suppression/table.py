"""Small-count suppression with complementary suppression, for a table of counts and its totals.

A published table holds the count of every combination of its dimensions' values (the cells),
the total per value of each dimension (the margins, when there are two dimensions or more) and
the grand total. A count from 1 to ``threshold - 1`` could single people out, so it is
suppressed (*primary*). A suppressed count that the published ones give back by subtraction
protects nothing, so others are suppressed beside it (*complementary*) until

1. every total that is published has, among its members, no suppressed count or at least two
   that together make ``threshold`` or more (so neither one is given back, nor their small sum);
2. no small count follows from the published ones through any combination of totals, checked
   exactly: a count is given back iff its unit vector lies in the row space of the totals'
   equations over the suppressed counts (integer Gauss-Jordan elimination).

Complements are the smallest non-zero published members, so the least is hidden; a total is
suppressed itself when no non-zero member is left. Zeros are published and never hidden: a zero
singles nobody out, and a complement that is known to be zero would hide nothing.

``totals`` names which totals are published beside the cells: by default the margin of each
dimension; a table whose every sub-total is published (code x region, region alone, ...) names
them all, and rules 1 and 2 then hold over all of them at once. ``people`` counts persons rather
than rows: each cell's count is its number of distinct people, and a total is suppressed when the
distinct people among its cells are 1 to ``threshold - 1``, however large the sum of the cells.

Rule 2 spares a complement: one that the totals give back is a zero or a count of ``threshold``
or more, which singles nobody out. With ``protect_complements`` no suppressed count at all
follows from the published ones: a table that says "suppressed" then means it (the monitoring
releases ask for this).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

PRIMARY: Literal["primary"] = "primary"
COMPLEMENTARY: Literal["complementary"] = "complementary"
Reason = Literal["primary", "complementary"]


@dataclass(frozen=True)
class Count:
    """One published count: ``value`` is None when ``suppressed`` says why it is withheld."""

    key: tuple[str, ...]
    value: int | None
    suppressed: Reason | None


@dataclass(frozen=True)
class Table:
    """The cells (one value per dimension), the margins per dimension, and the grand total."""

    dimensions: tuple[str, ...]
    threshold: int
    cells: tuple[Count, ...]
    margins: Mapping[str, tuple[Count, ...]]
    total: Count
    subtotals: Mapping[tuple[str, ...], tuple[Count, ...]] = field(default_factory=dict)
    """Every published total by the dimensions it keeps (the margins among them)."""


@dataclass(frozen=True)
class _Relation:
    """A published total and the cells it sums."""

    head: int
    members: tuple[int, ...]


def suppress(
    counts: Mapping[tuple[str, ...], int],
    *,
    dimensions: Sequence[str],
    values: Sequence[Sequence[str]],
    threshold: int = 10,
    protect_complements: bool = False,
    totals: Sequence[Sequence[str]] | None = None,
    people: Mapping[tuple[str, ...], frozenset[str]] | None = None,
) -> Table:
    """The table of ``counts`` over every combination of ``values``, small counts suppressed.

    ``counts`` maps a key (one value per dimension, in ``dimensions`` order) to a count; keys
    not given count zero, keys outside ``values`` are refused. ``protect_complements``: no
    suppressed count, complements included, follows from the published ones. ``totals``: the
    dimensions kept by each published sub-total (default: each dimension alone). ``people``:
    the distinct people of each cell, for the threshold of the totals (module docstring).
    """
    if threshold < 2:
        raise ValueError("a threshold below 2 suppresses nothing")
    if len(values) != len(dimensions) or not dimensions:
        raise ValueError("give the values of each dimension, at least one dimension")
    keys = list(itertools.product(*values))
    unknown = set(counts) - set(keys)
    if unknown:
        raise ValueError(f"counts outside the table's values: {sorted(unknown)[:3]}")
    if any(count < 0 for count in counts.values()):
        raise ValueError("counts are never negative")
    kept = _kept_axes(dimensions, totals)
    quantities = [counts.get(key, 0) for key in keys]
    labels: list[tuple[str, ...]] = list(keys)
    relations: list[_Relation] = []
    slices: list[tuple[tuple[str, ...], int, int]] = []
    for axes in kept:
        start = len(quantities)
        for combination in itertools.product(*(values[axis] for axis in axes)):
            members = tuple(
                i for i, key in enumerate(keys) if tuple(key[a] for a in axes) == combination
            )
            relations.append(_Relation(len(quantities), members))
            quantities.append(sum(quantities[i] for i in members))
            labels.append(combination)
        slices.append((tuple(dimensions[axis] for axis in axes), start, len(quantities)))
    relations.append(_Relation(len(quantities), tuple(range(len(keys)))))
    quantities.append(sum(quantities[: len(keys)]))
    labels.append(())

    persons = _persons(quantities, keys, relations, people)
    reasons: dict[int, Reason] = {
        i: PRIMARY for i, value in enumerate(persons) if 0 < value < threshold
    }
    _protect(quantities, relations, reasons, threshold, everything=protect_complements)

    def shown(index: int) -> Count:
        reason = reasons.get(index)
        return Count(labels[index], None if reason else quantities[index], reason)

    subtotals = {names: tuple(shown(i) for i in range(a, b)) for names, a, b in slices}
    return Table(
        dimensions=tuple(dimensions),
        threshold=threshold,
        cells=tuple(shown(i) for i in range(len(keys))),
        margins={names[0]: counts for names, counts in subtotals.items() if len(names) == 1},
        total=shown(len(quantities) - 1),
        subtotals=subtotals,
    )


def _kept_axes(
    dimensions: Sequence[str], totals: Sequence[Sequence[str]] | None
) -> list[tuple[int, ...]]:
    """The axes each published sub-total keeps, in the dimensions' order."""
    if totals is None:
        return [(axis,) for axis in range(len(dimensions))] if len(dimensions) > 1 else []
    kept = []
    for names in totals:
        if not names or set(names) - set(dimensions) or len(set(names)) == len(dimensions):
            raise ValueError(f"a sub-total keeps some of the dimensions, not {list(names)}")
        kept.append(tuple(sorted(dimensions.index(name) for name in set(names))))
    return kept


def _persons(
    quantities: list[int],
    keys: list[tuple[str, ...]],
    relations: list[_Relation],
    people: Mapping[tuple[str, ...], frozenset[str]] | None,
) -> list[int]:
    """The distinct people each count stands for: the count itself unless ``people`` is given."""
    if people is None:
        return list(quantities)
    cells = [people.get(key, frozenset()) for key in keys]
    if any(len(found) != quantities[i] for i, found in enumerate(cells)):
        raise ValueError("each cell counts its distinct people")
    persons = [len(found) for found in cells] + [0] * (len(quantities) - len(keys))
    for relation in relations:
        persons[relation.head] = len(frozenset().union(*(cells[m] for m in relation.members)))
    return persons


def _protect(
    quantities: list[int],
    relations: list[_Relation],
    reasons: dict[int, Reason],
    k: int,
    *,
    everything: bool = False,
) -> None:
    """Complementary suppression until rules 1 and 2 of the module docstring hold (rule 2 for
    every suppressed count when ``everything``)."""
    while True:
        while any(_protect_relation(quantities, r, reasons, k) for r in relations):
            pass
        given = _given_back(relations, reasons)
        small = given if everything else [i for i in given if reasons[i] == PRIMARY]
        if not small:
            return
        holding = [r for r in relations if small[0] == r.head or small[0] in r.members]
        if not any(_suppress_smallest(quantities, r, reasons) for r in holding):
            published = [i for i, value in enumerate(quantities) if value and i not in reasons]
            if not published:
                return  # every non-zero count is hidden: nothing can be given back
            reasons[min(published, key=lambda i: (quantities[i], i))] = COMPLEMENTARY


def _protect_relation(
    quantities: list[int], relation: _Relation, reasons: dict[int, Reason], k: int
) -> bool:
    """Rule 1 for one published total; True when it suppressed one more count."""
    if relation.head in reasons:
        if any(m in reasons for m in relation.members):
            return False
        # A suppressed total whose members are all published is their sum: hide one of them.
        return _suppress_smallest(quantities, relation, reasons, head=False)
    hidden = [m for m in relation.members if m in reasons]
    if not hidden or (len(hidden) >= 2 and sum(quantities[m] for m in hidden) >= k):
        return False
    return _suppress_smallest(quantities, relation, reasons)


def _suppress_smallest(
    quantities: list[int], relation: _Relation, reasons: dict[int, Reason], *, head: bool = True
) -> bool:
    """Suppress the smallest non-zero published member, else (``head``) the total itself."""
    candidates = [m for m in relation.members if m not in reasons and quantities[m] > 0]
    if candidates:
        reasons[min(candidates, key=lambda m: (quantities[m], m))] = COMPLEMENTARY
        return True
    if head and relation.head not in reasons and quantities[relation.head] > 0:
        reasons[relation.head] = COMPLEMENTARY
        return True
    return False


def _given_back(relations: list[_Relation], reasons: Mapping[int, Reason]) -> list[int]:
    """The suppressed counts that the published ones determine exactly, in index order."""
    unknowns = sorted(reasons)
    column = {index: position for position, index in enumerate(unknowns)}
    rows: list[list[int]] = []
    for relation in relations:
        row = [0] * len(unknowns)
        if relation.head in column:
            row[column[relation.head]] += 1
        for member in relation.members:
            if member in column:
                row[column[member]] -= 1
        if any(row):
            rows.append(row)
    return [unknowns[position] for position in _unit_rows(rows, len(unknowns))]


def _unit_rows(rows: list[list[int]], width: int) -> list[int]:
    """Gauss-Jordan over the integers: the columns whose unit vector is in the row space.

    In reduced row echelon form a unit vector lies in the row space iff some row *is* it.
    """
    pivot_row = 0
    for col in range(width):
        found = next((r for r in range(pivot_row, len(rows)) if rows[r][col]), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        pivot = rows[pivot_row]
        for r, row in enumerate(rows):
            if r != pivot_row and row[col]:
                factor, scale = row[col], pivot[col]
                reduced = [scale * a - factor * b for a, b in zip(row, pivot, strict=True)]
                rows[r] = _primitive(reduced)
        pivot_row += 1
        if pivot_row == len(rows):
            break
    units = []
    for row in rows:
        nonzero = [c for c, a in enumerate(row) if a]
        if len(nonzero) == 1:
            units.append(nonzero[0])
    return units


def _primitive(row: list[int]) -> list[int]:
    """The row divided by the gcd of its entries, so the integers stay small."""
    divisor = math.gcd(*row)
    return row if divisor in (0, 1) else [a // divisor for a in row]

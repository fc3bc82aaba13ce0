"""An independent check that no suppressed count of a release follows from what it publishes:
each table's totals rebuilt from the JSON, and for each suppressed count whether its unit
vector lies in the row space of the totals' equations (exact rank over the rationals)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any


def _rank(rows: list[list[Fraction]]) -> int:
    matrix = [row[:] for row in rows]
    rank = 0
    for col in range(len(matrix[0]) if matrix else 0):
        pivot = next((r for r in range(rank, len(matrix)) if matrix[r][col] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for r in range(len(matrix)):
            if r != rank and matrix[r][col] != 0:
                factor = matrix[r][col] / matrix[rank][col]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[rank], strict=True)]
        rank += 1
    return rank


def given_back(shown: dict[str, Any]) -> list[dict[str, Any]]:
    """The suppressed counts of one published table that its published counts determine."""
    cells = shown["cells"]
    relations = [(shown["total"], cells)]
    for dimension, margin in shown["margins"].items():
        for count in margin:
            value = count["values"][dimension]
            relations.append((count, [c for c in cells if c["values"][dimension] == value]))
    hidden = [c for c in [*cells, shown["total"], *(m for ms in shown["margins"].values()
              for m in ms)] if c["count"] is None]  # fmt: skip
    column = {id(count): i for i, count in enumerate(hidden)}
    rows = []
    for head, members in relations:
        row = [Fraction(0)] * len(hidden)
        if id(head) in column:
            row[column[id(head)]] += 1
        for member in members:
            if id(member) in column:
                row[column[id(member)]] -= 1
        rows.append(row)
    base = _rank(rows)
    found = []
    for i, count in enumerate(hidden):
        unit = [Fraction(int(i == j)) for j in range(len(hidden))]
        if _rank([*rows, unit]) == base:
            found.append(count)
    return found


def sums_hold(shown: dict[str, Any]) -> bool:
    """Every published total equals the sum of its published members when none is hidden."""
    cells = shown["cells"]
    relations = [(shown["total"], cells)]
    for dimension, margin in shown["margins"].items():
        for count in margin:
            value = count["values"][dimension]
            relations.append((count, [c for c in cells if c["values"][dimension] == value]))
    return all(
        head["count"] == sum(m["count"] for m in members)
        for head, members in relations
        if head["count"] is not None and all(m["count"] is not None for m in members)
    )

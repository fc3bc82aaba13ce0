"""Small-count suppression: no published count from 1 to k-1, and no small count comes back from
the published totals, by subtraction or by any combination of them."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suppression import COMPLEMENTARY, PRIMARY, Count, Table, suppress


def _by_key(counts: tuple[Count, ...]) -> dict[tuple[str, ...], Count]:
    return {count.key: count for count in counts}


def test_a_small_count_and_its_complement_in_one_dimension() -> None:
    table = suppress({("debts",): 3, ("housing",): 50, ("transport",): 0},
                     dimensions=["code"], values=[["debts", "housing", "transport"]])  # fmt: skip
    cells = _by_key(table.cells)
    assert cells[("debts",)] == Count(("debts",), None, PRIMARY)
    assert cells[("housing",)] == Count(("housing",), None, COMPLEMENTARY)
    assert cells[("transport",)].value == 0
    assert table.total == Count((), 53, None)
    assert table.margins == {}


def test_a_small_cell_in_two_dimensions_hides_a_rectangle() -> None:
    counts = {("a", "x"): 2, ("a", "y"): 20, ("b", "x"): 30, ("b", "y"): 40}
    table = suppress(counts, dimensions=["code", "region"], values=[["a", "b"], ["x", "y"]])
    hidden = {count.key for count in table.cells if count.value is None}
    assert hidden == {("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")}
    assert [m.value for m in table.margins["code"]] == [22, 70]
    assert [m.value for m in table.margins["region"]] == [32, 60]
    assert table.total.value == 92


def test_a_small_total_is_suppressed_with_its_members() -> None:
    table = suppress({("a",): 1, ("b",): 2}, dimensions=["code"], values=[["a", "b"]])
    assert table.total.suppressed == PRIMARY
    assert all(cell.value is None for cell in table.cells)


def test_large_counts_and_zeros_are_published_as_they_are() -> None:
    table = suppress({("a",): 10, ("b",): 0}, dimensions=["code"], values=[["a", "b"]])
    assert [cell.value for cell in table.cells] == [10, 0]
    assert table.total.value == 10


def test_the_threshold_is_the_callers() -> None:
    table = suppress({("a",): 4, ("b",): 40}, dimensions=["code"], values=[["a", "b"]],
                     threshold=3)  # fmt: skip
    assert [cell.value for cell in table.cells] == [4, 40]


@pytest.mark.parametrize(
    ("counts", "message"),
    [({("c",): 1}, "outside the table"), ({("a",): -1}, "never negative")],
)
def test_bad_counts_are_refused(counts: dict[tuple[str, ...], int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        suppress(counts, dimensions=["code"], values=[["a", "b"]])


# --- properties, checked by an implementation of their own -------------------------------------


def _relations(table: Table, values: list[list[str]]) -> list[tuple[Count, list[Count]]]:
    """Every published total with the cells it sums, rebuilt from the table's keys."""
    cells = list(table.cells)
    relations = [(table.total, cells)]
    if len(values) > 1:
        for axis, dimension in enumerate(table.dimensions):
            for margin in table.margins[dimension]:
                relations.append((margin, [c for c in cells if c.key[axis] == margin.key[0]]))
    return relations


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


def _determined(relations: list[tuple[Count, list[Count]]], hidden: list[Count]) -> list[Count]:
    """Hidden counts that a linear combination of the totals' equations gives back."""
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


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[tuple[str, ...], int], list[list[str]]]:
    dimensions = draw(st.integers(1, 3))
    values = [[f"{d}{v}" for v in range(draw(st.integers(1, 4)))] for d in range(dimensions)]
    small_or_large = st.one_of(st.integers(0, 12), st.integers(0, 60))
    counts = {key: draw(small_or_large) for key in itertools.product(*values)}
    return counts, values


@settings(max_examples=300, deadline=None)
@given(drawn=tables(), threshold=st.sampled_from([3, 5, 10]))
def test_no_small_count_is_published_or_given_back(
    drawn: tuple[dict[tuple[str, ...], int], list[list[str]]], threshold: int
) -> None:
    counts, values = drawn
    dimensions = [f"d{i}" for i in range(len(values))]
    table = suppress(counts, dimensions=dimensions, values=values, threshold=threshold)
    relations = _relations(table, values)
    truth = {id(c): counts.get(c.key, 0) for c in table.cells}
    for head, members in relations:
        truth[id(head)] = sum(counts.get(m.key, 0) for m in members)
    everything = [head for head, _ in relations] + list(table.cells)
    for count in everything:
        assert count.value is None or count.value == truth[id(count)]
        assert count.value is None or count.value == 0 or count.value >= threshold
        assert (count.value is None) == (count.suppressed is not None)
    for head, members in relations:
        hidden = [m for m in members if m.value is None]
        if head.value is not None and hidden:
            assert len(hidden) >= 2
            assert sum(truth[id(m)] for m in hidden) >= threshold
    unique_hidden = list({id(c): c for c in everything if c.value is None}.values())
    given_back = _determined(relations, unique_hidden)
    assert [c for c in given_back if 0 < truth[id(c)] < threshold] == []
    # A complement given back is a zero or a count of threshold or more: nothing small.
    assert all(c.suppressed == COMPLEMENTARY for c in given_back)


@settings(max_examples=200, deadline=None)
@given(drawn=tables(), threshold=st.sampled_from([3, 10]))
def test_with_complements_protected_no_suppressed_count_is_given_back(
    drawn: tuple[dict[tuple[str, ...], int], list[list[str]]], threshold: int
) -> None:
    counts, values = drawn
    dimensions = [f"d{i}" for i in range(len(values))]
    table = suppress(counts, dimensions=dimensions, values=values, threshold=threshold,
                     protect_complements=True)  # fmt: skip
    relations = _relations(table, values)
    everything = [head for head, _ in relations] + list(table.cells)
    assert all(c.value is None or c.value == 0 or c.value >= threshold for c in everything)
    unique_hidden = list({id(c): c for c in everything if c.value is None}.values())
    assert _determined(relations, unique_hidden) == []

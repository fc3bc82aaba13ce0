"""A release's tables: true counts, the noise OpenDP adds (or a recorded draw of it), then
small-cell suppression with complementary suppression (``suppression``) on the noisy counts.

Suppression is decided on the noisy counts, never on the true ones: which cells are withheld
is then itself protected by the noise (post-processing keeps the guarantee), where a rule on
the true counts would tell a differencing attacker on which side of the threshold a cell lies.
Negative noisy counts are shown as zero, and the totals are the sums of the cells as shown, so
the published table adds up and the exact check of ``suppression`` holds on what is published.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitoring.noise import (
    MECHANISM,
    NoiseSource,
    accuracy_95,
    epsilon_of,
    library,
    scale_for,
)
from monitoring.tables import (
    DURATION_BANDS,
    SEPARATOR,
    TABLES,
    Context,
    Counted,
    TableSpec,
    rows,
)
from suppression import Count, suppress

Draw = Mapping[str, Sequence[int]]


@dataclass(frozen=True)
class Built:
    """The published part of a release, the draw that made it, and the epsilon it spent."""

    tables: list[dict[str, Any]]
    medians: dict[str, Any]
    epsilon: float
    draw: dict[str, list[int]]


def build(
    people: Sequence[Counted],
    context: Context,
    *,
    threshold: int,
    noise: NoiseSource | None,
    draw: Draw | None = None,
) -> Built:
    """Every table of ``TABLES`` over ``people``; with ``draw`` the recorded noise is added
    again (a reproduction), else ``noise`` draws it; without either the counts carry no noise
    (never in production: the release then says so, and spends nothing)."""
    weights = sum(spec.weight for spec in TABLES)
    tables, drawn, spent = [], {}, 0.0
    for spec in TABLES:
        share = context.query.epsilon * spec.weight / weights
        keys = list(itertools.product(*(context.values(d) for d in spec.dimensions)))
        categories = [SEPARATOR.join(key) for key in keys]
        found = rows(spec, people, context)
        true = Counter(found)
        exact = [true[category] for category in categories]
        noisy = draw is not None or noise is not None
        scale = scale_for(share, spec.sensitivity) if noisy else 0.0
        if draw is not None:
            offsets = list(draw[spec.name])
        elif noise is not None:
            published = noise.noisy_counts(exact, scale)
            offsets = [value - count for value, count in zip(published, exact, strict=True)]
        else:
            offsets = [0] * len(categories)
        drawn[spec.name] = offsets
        epsilon = epsilon_of(len(categories), scale, spec.sensitivity) if noisy else None
        spent += epsilon or 0.0
        counts = {
            key: max(count + offset, 0)
            for key, count, offset in zip(keys, exact, offsets, strict=True)
        }
        # A figure is shown only when it is at least k and stands out of its own noise (above
        # its 95 % half-width): a count that is mostly noise would only mislead.
        shown_from = max(threshold, accuracy_95(scale) + 1) if noisy else threshold
        table = suppress(
            counts,
            dimensions=spec.dimensions,
            values=[context.values(d) for d in spec.dimensions],
            threshold=shown_from,
            protect_complements=True,
        )
        tables.append(_table(spec, table, epsilon, scale, len(keys), shown_from))
    return Built(tables, _medians(tables, threshold), round(spent, 9), drawn)


def _table(
    spec: TableSpec, table: Any, epsilon: float | None, scale: float, cells: int, shown_from: int
) -> dict[str, Any]:
    def shown(count: Count, dimensions: tuple[str, ...]) -> dict[str, Any]:
        return {
            "values": dict(zip(dimensions, count.key, strict=True)),
            "count": count.value,
            "suppressed": count.suppressed,
        }

    per_margin = {d: cells // len(values) for d, values in table.margins.items()}
    return {
        "name": spec.name,
        "dimensions": list(spec.dimensions),
        "sensitivity": spec.sensitivity,
        "shown_from": shown_from,
        "epsilon": None if epsilon is None else round(epsilon, 9),
        "noise": None
        if epsilon is None
        else {
            "mechanism": MECHANISM,
            "library": library(),
            "scale": round(scale, 9),
            "accuracy_95": {
                "cell": accuracy_95(scale),
                "margins": {d: accuracy_95(scale, n) for d, n in per_margin.items()},
                "total": accuracy_95(scale, cells),
            },
        },
        "cells": [shown(count, spec.dimensions) for count in table.cells],
        "margins": {
            dimension: [shown(count, (dimension,)) for count in counts]
            for dimension, counts in table.margins.items()
        },
        "total": shown(table.total, ()),
    }


def _medians(tables: list[dict[str, Any]], threshold: int) -> dict[str, Any]:
    """The median duration band per method, from the noisy counts as published: only where the
    method's total is published, so a withheld total is not given back by its median."""
    durations = next(t for t in tables if t["name"] == "method_duration")
    medians: dict[str, str | None] = {}
    for margin in durations["margins"]["method"]:
        method, total = margin["values"]["method"], margin["count"]
        if total is None or total < threshold:
            medians[method] = None
            continue
        bands = {c["values"]["duration"]: c["count"] for c in durations["cells"]
                 if c["values"]["method"] == method}  # fmt: skip
        if any(count is None for count in bands.values()):
            medians[method] = None
            continue
        running = 0
        for band in DURATION_BANDS:
            running += bands[band] or 0
            if 2 * running >= total:
                medians[method] = band
                break
    return {"duration_by_method": medians}

"""Shared helpers for the benchmarks: percentiles and the result table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``samples`` (any unit)."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def summary(latencies_s: list[float]) -> dict[str, float]:
    """p50/p99/mean in microseconds and the serial rate for a list of latencies in seconds."""
    return {
        "p50_us": percentile(latencies_s, 0.50) * 1e6,
        "p99_us": percentile(latencies_s, 0.99) * 1e6,
        "mean_us": statistics.fmean(latencies_s) * 1e6,
        "per_s": len(latencies_s) / sum(latencies_s),
    }


@dataclass
class Row:
    """One line of the result table."""

    figure: str
    value: str
    reference: str
    ratio: str
    goal: str
    met: str


def print_table(rows: list[Row]) -> str:
    header = Row("figure", "value", "reference", "ratio", "goal", "met?")
    cells = [header, *rows]
    names = ("figure", "value", "reference", "ratio", "goal", "met")
    widths = {n: max(len(getattr(c, n)) for c in cells) for n in names}
    lines = []
    for position, cell in enumerate(cells):
        lines.append(" | ".join(getattr(cell, n).ljust(widths[n]) for n in names))
        if position == 0:
            lines.append("-+-".join("-" * widths[n] for n in names))
    text = "\n".join(lines)
    print(text, flush=True)
    return text

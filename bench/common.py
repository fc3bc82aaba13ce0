"""Shared helpers for the benchmarks: percentiles and the result table."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


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


def fresh_postgres(admin_url: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database on the server of ``admin_url``, and the function that drops it."""
    name = f"schakel_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop

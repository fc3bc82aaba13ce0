"""The steering group's charts as inline SVG (no script, no CDN), from a stored release: bars per
method and outcome, and a line per quarter. A suppressed figure is drawn as an empty outline
and named "suppressed"; every mark has a title, and the table beside each chart holds the same
numbers, so nothing is only in the picture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

HEIGHT, BAR, GAP, GROUP_GAP, LEFT, BOTTOM = 160, 16, 1, 34, 34, 22
# One colour per outcome; each holds 3:1 against white (WCAG 1.4.11, graphical objects).
COLOURS = ("#0b4f9c", "#1d6b34", "#8a4b00", "#6b2c91", "#a4262c", "#4d4d4d")


def _svg(label: str, width: int, body: str) -> Markup:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'width="{width}" height="{HEIGHT + BOTTOM}" viewBox="0 0 {width} {HEIGHT + BOTTOM}">'
        f"{body}</svg>"
    )
    return Markup(svg)  # noqa: S704 - built here from numbers and escaped text


def _axis(width: int, peak: int) -> str:
    return (
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT}" x2="{width}" y2="{HEIGHT}"/>'
        f'<text x="{LEFT - 4}" y="10" text-anchor="end" font-size="10">{peak}</text>'
        f'<text x="{LEFT - 4}" y="{HEIGHT}" text-anchor="end" font-size="10">0</text>'
    )


def method_outcome_bars(
    table: dict[str, Any], label: Callable[[str], str], words: dict[str, str]
) -> Markup:
    """Per method a group of bars, one per outcome."""
    methods = [m["values"]["method"] for m in table["margins"]["method"]]
    outcomes = [o["values"]["outcome"] for o in table["margins"]["outcome"]]
    counts = {(c["values"]["method"], c["values"]["outcome"]): c["count"] for c in table["cells"]}
    peak = max([v for v in counts.values() if v] or [1])
    group = len(outcomes) * (BAR + GAP) + GROUP_GAP
    width = LEFT + len(methods) * group
    marks = [_axis(width, peak)]
    for g, method in enumerate(methods):
        x0 = LEFT + g * group + GROUP_GAP // 2
        for o, outcome in enumerate(outcomes):
            value = counts[(method, outcome)]
            x = x0 + o * (BAR + GAP)
            title = escape(
                f"{label(method)}, {label(outcome)}: "
                + (words["suppressed"] if value is None else f"{value} ({words['noise']})")
            )
            if value is None:
                marks.append(
                    f'<rect class="bar-suppressed" x="{x}" y="{HEIGHT - 12}" width="{BAR}" '
                    f'height="12"><title>{title}</title></rect>'
                )
                continue
            height = round(HEIGHT * value / peak)
            marks.append(
                f'<rect fill="{COLOURS[o % len(COLOURS)]}" x="{x}" y="{HEIGHT - height}" '
                f'width="{BAR}" height="{height}"><title>{title}</title></rect>'
            )
        marks.append(
            f'<text x="{x0}" y="{HEIGHT + 14}" font-size="10">{escape(label(method)[:22])}</text>'
        )
    return _svg(words["chart_method_outcome"], width, "".join(marks))


def quarter_lines(
    table: dict[str, Any], label: Callable[[str], str], words: dict[str, str]
) -> Markup:
    """Trajectories started per quarter, and those ending in paid work, as two lines."""
    quarters = [q["values"]["quarter"] for q in table["margins"]["quarter"]]
    started = [q["count"] for q in table["margins"]["quarter"]]
    paid = {c["values"]["quarter"]: c["count"] for c in table["cells"]
            if c["values"]["outcome"] == "paid-work"}  # fmt: skip
    series = [(words["chart_quarter"], started, COLOURS[0]),
              (words["chart_quarter_paid"], [paid[q] for q in quarters], COLOURS[1])]  # fmt: skip
    peak = max([v for _, values, _ in series for v in values if v] or [1])
    step = 70
    width = LEFT + step * max(len(quarters), 1)
    marks = [_axis(width, peak)]
    for name, values, colour in series:
        points = []
        for i, value in enumerate(values):
            x = LEFT + step // 2 + i * step
            title = escape(f"{name}, {quarters[i]}: " + (
                words["suppressed"] if value is None else f"{value} ({words['noise']})"))  # fmt: skip
            if value is None:
                marks.append(
                    f'<circle class="point-suppressed" cx="{x}" cy="{HEIGHT - 6}" r="4">'
                    f"<title>{title}</title></circle>"
                )
                continue
            y = HEIGHT - round(HEIGHT * value / peak)
            points.append(f"{x},{y}")
            marks.append(
                f'<circle fill="{colour}" cx="{x}" cy="{y}" r="4"><title>{title}</title></circle>'
            )
        if len(points) > 1:
            marks.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                f'points="{" ".join(points)}"/>'
            )
    for i, quarter in enumerate(quarters):
        x = LEFT + step // 2 + i * step - 20
        marks.append(f'<text x="{x}" y="{HEIGHT + 14}" font-size="10">{quarter}</text>')
    return _svg(words["chart_quarter"], width, "".join(marks))

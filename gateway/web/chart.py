"""The officer's chart, from ``audit.query.daily_statistics``.

Inline SVG drawn here (no script, no CDN): per party, one bar pair per UTC day, disclosures
(entries with outcome ``allow``) and denials (outcome ``deny``), the number above each bar and
the day under each pair. Unusual activity has rules of its own (``gateway.audit_log.unusual``).
"""

from __future__ import annotations

from datetime import date, timedelta

from markupsafe import Markup, escape

from audit.schemas import DailyStatistic

WINDOW_DAYS = 14
BAR, GAP, HEIGHT, TOP = 11, 10, 80, 12
GROUP = 2 * BAR + GAP


def _counts(stats: list[DailyStatistic]) -> dict[str, dict[date, tuple[int, int]]]:
    counts: dict[str, dict[date, tuple[int, int]]] = {}
    for stat in stats:
        allowed = stat.by_outcome.get("allow", 0)
        denied = stat.by_outcome.get("deny", 0)
        if allowed or denied:
            counts.setdefault(stat.party, {})[stat.day] = (allowed, denied)
    return counts


def party_charts(
    stats: list[DailyStatistic], today: date, names: dict[str, str]
) -> list[tuple[str, Markup]]:
    """One small SVG per party over the window, oldest day left: the day under each pair of
    bars, the number above each bar; labelled for screen readers."""
    days = [today - timedelta(days=WINDOW_DAYS - 1 - offset) for offset in range(WINDOW_DAYS)]
    charts = []
    for party, counts in sorted(_counts(stats).items()):
        peak = max(max(a, d) for a, d in counts.values()) or 1
        parts = []
        for index, day in enumerate(days):
            allowed, denied = counts.get(day, (0, 0))
            x = index * GROUP
            for offset, value, kind in ((0, allowed, "allow"), (BAR, denied, "deny")):
                height = round(HEIGHT * value / peak)
                top = TOP + HEIGHT - height
                parts.append(
                    f'<rect class="bar-{kind}" x="{x + offset}" y="{top}" width="{BAR}" '
                    f'height="{height}"></rect>'
                )
                if value:
                    parts.append(
                        f'<text class="tick" x="{x + offset + BAR / 2}" y="{top - 2}" '
                        f'text-anchor="middle">{value}</text>'
                    )
            parts.append(
                f'<text class="tick" x="{x + BAR}" y="{TOP + HEIGHT + 12}" '
                f'text-anchor="middle">{day.day}/{day.month}</text>'
            )
        total_allowed = sum(a for a, _ in counts.values())
        total_denied = sum(d for _, d in counts.values())
        width = WINDOW_DAYS * GROUP
        name = names.get(party, party)
        label = escape(f"{name}: {total_allowed} / {total_denied}")
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" '
            f'width="{width}" height="{TOP + HEIGHT + 16}" '
            f'viewBox="0 0 {width} {TOP + HEIGHT + 16}">'
            f'<line class="axis" x1="0" y1="{TOP + HEIGHT}" x2="{width}" y2="{TOP + HEIGHT}"/>'
            + "".join(parts)
            + "</svg>"
        )
        charts.append((name, Markup(svg)))  # noqa: S704 - built here from numbers and escaped text
    return charts

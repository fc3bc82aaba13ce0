"""The officer's chart and 'unusual activity' list, from ``audit.query.daily_statistics``.

The chart is inline SVG drawn here (no script, no CDN): per party, one bar pair per UTC day,
disclosures (entries with outcome ``allow``) and denials (outcome ``deny``).

Unusual activity, kept simple on purpose: a party is listed when today it was denied at least
``MIN_DENIALS`` times and its denial share today is at least ``MARGIN`` above its own share over
the earlier days of the window (0 when it had no earlier traffic).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape

from audit.schemas import DailyStatistic

WINDOW_DAYS = 14
MIN_DENIALS = 3
MARGIN = 0.3
BAR, GAP, HEIGHT = 8, 6, 80


@dataclass(frozen=True)
class Unusual:
    party: str
    denials_today: int
    share_today: float
    earlier_share: float


def _counts(stats: list[DailyStatistic]) -> dict[str, dict[date, tuple[int, int]]]:
    counts: dict[str, dict[date, tuple[int, int]]] = {}
    for stat in stats:
        allowed = stat.by_outcome.get("allow", 0)
        denied = stat.by_outcome.get("deny", 0)
        if allowed or denied:
            counts.setdefault(stat.party, {})[stat.day] = (allowed, denied)
    return counts


def unusual_activity(stats: list[DailyStatistic], today: date) -> list[Unusual]:
    """Parties whose denial share today is far above their own earlier share."""
    found = []
    for party, days in sorted(_counts(stats).items()):
        allowed, denied = days.get(today, (0, 0))
        if denied < MIN_DENIALS:
            continue
        earlier = [counts for day, counts in days.items() if day < today]
        earlier_total = sum(a + d for a, d in earlier)
        earlier_share = sum(d for _, d in earlier) / earlier_total if earlier_total else 0.0
        share = denied / (allowed + denied)
        if share >= earlier_share + MARGIN:
            found.append(Unusual(party, denied, share, earlier_share))
    return found


def party_charts(stats: list[DailyStatistic], today: date) -> list[tuple[str, Markup]]:
    """One small SVG per party over the window, oldest day left; labelled for screen readers."""
    days = [today - timedelta(days=WINDOW_DAYS - 1 - offset) for offset in range(WINDOW_DAYS)]
    charts = []
    for party, counts in sorted(_counts(stats).items()):
        peak = max(max(a, d) for a, d in counts.values()) or 1
        bars = []
        for index, day in enumerate(days):
            allowed, denied = counts.get(day, (0, 0))
            x = index * (2 * BAR + GAP)
            for offset, value, kind in ((0, allowed, "allow"), (BAR, denied, "deny")):
                height = round(HEIGHT * value / peak)
                bars.append(
                    f'<rect class="bar-{kind}" x="{x + offset}" y="{HEIGHT - height}" '
                    f'width="{BAR}" height="{height}"><title>{day}: {value} {kind}</title></rect>'
                )
        total_allowed = sum(a for a, _ in counts.values())
        total_denied = sum(d for _, d in counts.values())
        width = WINDOW_DAYS * (2 * BAR + GAP)
        label = escape(f"{party}: {total_allowed} allow, {total_denied} deny")
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" '
            f'width="{width}" height="{HEIGHT + 2}" viewBox="0 0 {width} {HEIGHT + 2}">'
            f'<line class="axis" x1="0" y1="{HEIGHT}" x2="{width}" y2="{HEIGHT}"/>'
            + "".join(bars)
            + "</svg>"
        )
        charts.append((party, Markup(svg)))  # noqa: S704 - built here from numbers and escaped text
    return charts

"""Unusual activity in the audit log: the patterns a privacy officer's report flags (as Suwinet's
privacy reports do), each rule with its thresholds in the settings and the entries behind it.

- denial share: a party refused far more often today than it used to be;
- after hours: requests for data outside office hours (Europe/Amsterdam) or at the weekend;
- bulk reading: one party reading many different participants in a short time;
- most consulted: the participants read most often in the window;
- sudden rise: a party's requests today against its own daily average before.

Days are days on the clock in the Netherlands. "Requests for data" are disclosures and denials.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from audit.query import iter_entries
from audit.schemas import AuditQuery, OversightScope
from gateway.settings import Settings

LOCAL = ZoneInfo("Europe/Amsterdam")
READS = frozenset({"disclose", "deny"})
MAX_LINKED = 100


class Rule(StrEnum):
    DENIAL_SHARE = "denial-share"
    AFTER_HOURS = "after-hours"
    BULK_READING = "bulk-reading"
    MOST_CONSULTED = "most-consulted"
    SUDDEN_RISE = "sudden-rise"


@dataclass(frozen=True)
class Thresholds:
    """The rules' thresholds, read from the settings once."""

    window_days: int
    min_denials: int
    denial_margin: float
    office_start: int
    office_end: int
    after_hours_min: int
    bulk_participants: int
    bulk_minutes: int
    most_consulted_min: int
    most_consulted_top: int
    rise_factor: float
    rise_min: int

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(
            window_days=settings.unusual_window_days,
            min_denials=settings.unusual_min_denials,
            denial_margin=settings.unusual_denial_margin,
            office_start=settings.office_hours_start,
            office_end=settings.office_hours_end,
            after_hours_min=settings.unusual_after_hours_min,
            bulk_participants=settings.unusual_bulk_participants,
            bulk_minutes=settings.unusual_bulk_minutes,
            most_consulted_min=settings.unusual_most_consulted_min,
            most_consulted_top=settings.unusual_most_consulted_top,
            rise_factor=settings.unusual_rise_factor,
            rise_min=settings.unusual_rise_min,
        )


class Finding(BaseModel):
    """One unusual pattern: which rule, about whom, how many, against which threshold, and the
    entries behind it (their sequence numbers, the first hundred)."""

    rule: Rule
    party: str | None = Field(description="The acting party, for the rules about a party")
    subject_ref: str | None = Field(description="The participant (audit pseudonym), if any")
    count: int = Field(description="What the rule counted: refusals, requests or participants")
    threshold: float = Field(description="The threshold the count met")
    baseline: float | None = Field(
        default=None, description="Denial share and sudden rise: the party's own earlier level"
    )
    share: float | None = Field(default=None, description="Denial share: today's share")
    first_at: datetime
    last_at: datetime
    entries: list[int]


def find_unusual(
    session: Session,
    thresholds: Thresholds,
    now: datetime,
    *,
    within: OversightScope | None = None,
) -> list[Finding]:
    """Every rule over the window ending now, within an officer's part of the log (none: all);
    findings sorted by rule, then by count."""
    today = now.astimezone(LOCAL).date()
    start = datetime.combine(
        today - timedelta(days=thresholds.window_days - 1), datetime.min.time(), tzinfo=LOCAL
    )
    reads = [
        entry
        for entry in iter_entries(
            session=session, query=AuditQuery(recorded_from=start, within=within)
        )
        if entry.action in READS
    ]
    return [
        *denial_share(reads, thresholds, today),
        *after_hours(reads, thresholds),
        *bulk_reading(reads, thresholds),
        *most_consulted(reads, thresholds),
        *sudden_rise(reads, thresholds, today),
    ]


def _day(entry: AuditEntry) -> date:
    return entry.recorded_at.astimezone(LOCAL).date()


def _finding(rule: Rule, entries: list[AuditEntry], count: int, threshold: float,
             **extra: object) -> Finding:  # fmt: skip
    return Finding.model_validate({
        "rule": rule, "party": None, "subject_ref": None, "count": count,
        "threshold": threshold, "first_at": entries[0].recorded_at,
        "last_at": entries[-1].recorded_at,
        "entries": [entry.seq for entry in entries[:MAX_LINKED]], **extra,
    })  # fmt: skip


def _by_party(reads: list[AuditEntry]) -> dict[str, list[AuditEntry]]:
    grouped: dict[str, list[AuditEntry]] = defaultdict(list)
    for entry in reads:
        grouped[entry.actor_party].append(entry)
    return dict(sorted(grouped.items()))


def denial_share(reads: list[AuditEntry], limits: Thresholds, today: date) -> list[Finding]:
    """Refused at least ``min_denials`` times today, with a share of refusals at least
    ``denial_margin`` above the party's own share over the earlier days."""
    found = []
    for party, entries in _by_party(reads).items():
        now = [entry for entry in entries if _day(entry) == today]
        denied = [entry for entry in now if entry.action == "deny"]
        if len(denied) < limits.min_denials:
            continue
        earlier = [entry for entry in entries if _day(entry) < today]
        before = sum(entry.action == "deny" for entry in earlier) / len(earlier) if earlier else 0.0
        share = len(denied) / len(now)
        if share >= before + limits.denial_margin:
            found.append(_finding(
                Rule.DENIAL_SHARE, denied, len(denied), limits.min_denials,
                party=party, share=share, baseline=before,
            ))  # fmt: skip
    return found


def outside_office_hours(moment: datetime, limits: Thresholds) -> bool:
    """Before or after office hours in the Netherlands, or on a Saturday or Sunday."""
    here = moment.astimezone(LOCAL)
    return here.weekday() >= 5 or not limits.office_start <= here.hour < limits.office_end


def after_hours(reads: list[AuditEntry], limits: Thresholds) -> list[Finding]:
    """A party asking for data outside office hours at least ``after_hours_min`` times."""
    found = []
    for party, entries in _by_party(reads).items():
        late = [entry for entry in entries if outside_office_hours(entry.recorded_at, limits)]
        if len(late) >= limits.after_hours_min:
            found.append(
                _finding(Rule.AFTER_HOURS, late, len(late), limits.after_hours_min, party=party)
            )
    return found


def bulk_reading(reads: list[AuditEntry], limits: Thresholds) -> list[Finding]:
    """A party reading at least ``bulk_participants`` different participants within
    ``bulk_minutes`` (a sliding window); the busiest such stretch is reported."""
    span = timedelta(minutes=limits.bulk_minutes)
    found = []
    for party, entries in _by_party(reads).items():
        named = [entry for entry in entries if entry.subject_ref]
        best: list[AuditEntry] = []
        best_count = 0
        start = 0
        for end, entry in enumerate(named):
            while entry.recorded_at - named[start].recorded_at > span:
                start += 1
            stretch = named[start : end + 1]
            count = len({item.subject_ref for item in stretch})
            if count > best_count:
                best, best_count = stretch, count
        if best_count >= limits.bulk_participants:
            found.append(_finding(
                Rule.BULK_READING, best, best_count, limits.bulk_participants, party=party
            ))  # fmt: skip
    return found


def most_consulted(reads: list[AuditEntry], limits: Thresholds) -> list[Finding]:
    """The participants read at least ``most_consulted_min`` times, the most read first."""
    counts = Counter(entry.subject_ref for entry in reads if entry.subject_ref)
    found = []
    for subject, count in counts.most_common(limits.most_consulted_top):
        if count < limits.most_consulted_min:
            break
        about = [entry for entry in reads if entry.subject_ref == subject]
        found.append(_finding(
            Rule.MOST_CONSULTED, about, count, limits.most_consulted_min, subject_ref=subject
        ))  # fmt: skip
    return found


def sudden_rise(reads: list[AuditEntry], limits: Thresholds, today: date) -> list[Finding]:
    """A party's requests today at least ``rise_factor`` times its daily average over the
    earlier days of the window, and at least ``rise_min``."""
    found = []
    earlier_days = limits.window_days - 1
    for party, entries in _by_party(reads).items():
        now = [entry for entry in entries if _day(entry) == today]
        baseline = sum(_day(entry) < today for entry in entries) / earlier_days
        if len(now) >= limits.rise_min and len(now) >= limits.rise_factor * baseline:
            found.append(_finding(
                Rule.SUDDEN_RISE, now, len(now), limits.rise_min, party=party, baseline=baseline
            ))  # fmt: skip
    return found

"""Pydantic models of the audit log: the draft a caller appends, queries, and what officers read."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from audit.errors import InvalidAuditQuery
from dbtypes import MAX_JSON_INT

ACTION_PATTERN = r"^[a-z][a-z_]*(\.[a-z][a-z_]*)*$"
HEX_DIGEST_PATTERN = r"^[0-9a-f]{64}$"
MAX_PAGE = 500

# The actions the gateway writes today; the pattern above lets new ones in without a migration.
KNOWN_ACTIONS = (
    "disclose",
    "deny",
    "consent.grant",
    "consent.amend",
    "consent.revoke",
    "record.submit",
    "audit.query",
    "policy.reload",
    "auth.denied",
)

# A BSN stands alone; digits inside a longer token (a hex pseudonym, a uuid) are no BSN.
# A BSN stands alone as nine digits; digits inside a token (a hex pseudonym, a uuid) are no BSN.
_NINE_DIGITS = re.compile(r"(?<![0-9A-Za-z-])\d{9}(?![0-9A-Za-z-])")


class Outcome(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    OK = "ok"
    ERROR = "error"


def passes_eleven_test(digits: str) -> bool:
    """The BSN 11-proof (elfproef): weights 9..2 and -1; 8-digit numbers get a leading zero."""
    number = digits.zfill(9)
    total = sum(int(d) * w for d, w in zip(number[:8], range(9, 1, -1), strict=True))
    total -= int(number[8])
    return total % 11 == 0 and number != "000000000"


def _refuse_bsn(value: str | None, field: str) -> str | None:
    """No BSN ever enters the log: the subject is an audit-domain pseudonym (docs/architecture.md)."""
    if value is not None and redact_bsns(value) != value:
        raise ValueError(f"{field} looks like it holds a BSN; audit entries never do")
    return value


def redact_bsns(text: str) -> str:
    """Free text (a reason) keeps its meaning but loses anything that passes for a BSN."""
    return _NINE_DIGITS.sub(
        lambda match: "[redacted]" if passes_eleven_test(match.group(0)) else match.group(0), text
    )


Text = Annotated[str, Field(min_length=1, max_length=64)]


class AuditDraft(BaseModel):
    """What a caller wants recorded; the log adds seq, recorded_at, prev_hash and entry_hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trace_id: Text | None = None
    actor_party: Text
    actor_domain: Annotated[str, Field(min_length=1, max_length=32)]
    action: Annotated[str, Field(max_length=40, pattern=ACTION_PATTERN)]
    subject_ref: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    purpose: Text | None = None
    categories: tuple[Text, ...] = ()
    consent_ids: tuple[Text, ...] = ()
    decision_id: Text | None = None
    policy_revision: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    outcome: Outcome
    reason: Annotated[str, Field(max_length=1000)] | None = None
    payload_digest: Annotated[str, Field(pattern=HEX_DIGEST_PATTERN)] | None = None

    @field_validator("categories", "consent_ids")
    @classmethod
    def _sorted_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({redact_bsns(item) for item in value}))

    @field_validator("subject_ref")
    @classmethod
    def _no_bsn(cls, value: str | None) -> str | None:
        return _refuse_bsn(value, "subject_ref")

    @field_validator("reason", "purpose")
    @classmethod
    def _no_bsn_in_text(cls, value: str | None) -> str | None:
        # Redacted, not refused: a refusal here would fail the action the entry records.
        return None if value is None else redact_bsns(value)


_PAGING = {"after_seq", "before_seq", "newest_first", "limit"}


class AuditQuery(BaseModel):
    """Filters of an officer query; ``recorded_from`` is inclusive, ``recorded_until`` exclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_ref: str | None = None
    party: str | None = None
    action: str | None = None
    purpose: str | None = None
    outcome: Outcome | None = None
    recorded_from: datetime | None = None
    recorded_until: datetime | None = None
    # An officer reading the log does not want their own searches in the way (shown on request).
    hide_queries_by: str | None = None
    after_seq: Annotated[int, Field(ge=0, le=MAX_JSON_INT)] = 0
    # Newest first pages backwards: the next page holds the entries before the last one shown.
    newest_first: bool = False
    before_seq: Annotated[int, Field(ge=1, le=MAX_JSON_INT)] | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 100

    @field_validator("recorded_from", "recorded_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise InvalidAuditQuery("from and until need a timezone offset, e.g. 2026-11-24T00:00Z")
        return value

    @model_validator(mode="after")
    def _ordered_period(self) -> AuditQuery:
        start, end = self.recorded_from, self.recorded_until
        if start is not None and end is not None and end <= start:
            raise InvalidAuditQuery("the period is empty or inverted: until must be after from")
        return self

    def filters(self) -> dict[str, str]:
        """The filters as given, for the audit entry that records this query."""
        return {
            name: str(value)
            for name, value in self.model_dump(exclude=_PAGING).items()
            if value is not None
        }


class EntryView(BaseModel):
    """One entry as officers and exports see it: the hashed fields plus ``entry_hash``."""

    seq: int
    recorded_at: str
    trace_id: str | None
    actor_party: str
    actor_domain: str
    action: str
    subject_ref: str | None
    purpose: str | None
    categories: list[str]
    consent_ids: list[str]
    decision_id: str | None
    policy_revision: str | None
    outcome: str
    reason: str | None
    payload_digest: str | None
    prev_hash: str
    entry_hash: str


class EntryPage(BaseModel):
    entries: list[EntryView]
    next_after_seq: int | None = Field(
        description="Pass as afterSeq for the next page; null when this is the last page."
    )


class DailyStatistic(BaseModel):
    """How many entries one party caused on one UTC day, by outcome."""

    day: date
    party: str
    entries: int
    by_outcome: dict[str, int]


class CheckpointView(BaseModel):
    seq: int
    entry_hash: str
    recorded_at: str
    signed_at: str
    kid: str
    signature: str

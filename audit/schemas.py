"""Pydantic models of the audit log: the draft a caller appends, queries, and what officers read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from audit.actions import Action
from audit.actions import Outcome as Outcome  # callers import it with the draft
from audit.errors import InvalidAuditQuery
from audit.fields import BY_NAME, DOCUMENT_FIELDS, Kind, width
from bsn import holds_bsn, redact_bsns
from dbtypes import MAX_JSON_INT

ACTION_PATTERN = r"^[a-z][a-z_]*(\.[a-z][a-z_]*)*$"
HEX_DIGEST_PATTERN = r"^[0-9a-f]{64}$"
MAX_PAGE = 500


def _refuse_bsn(value: str | None, field: str) -> str | None:
    """No BSN ever enters the log: the subject is an audit-domain pseudonym (docs/architecture.md)."""
    if value is not None and holds_bsn(value):
        raise ValueError(f"{field} looks like it holds a BSN; audit entries never do")
    return value


def _fits(name: str) -> Any:
    """Non-empty text no wider than the member's column."""
    return Field(min_length=1, max_length=width(name))


# A category or consent id is as wide as the other short names.
Name = Annotated[str, Field(min_length=1, max_length=64)]


class AuditDraft(BaseModel):
    """What a caller wants recorded; the log adds seq, recorded_at, prev_hash and entry_hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trace_id: Annotated[str, _fits("trace_id")] | None = None
    actor_party: Annotated[str, _fits("actor_party")]
    actor_domain: Annotated[str, _fits("actor_domain")]
    actor_user: Annotated[str, _fits("actor_user")] | None = None
    action: Action
    subject_ref: Annotated[str, _fits("subject_ref")] | None = None
    purpose: Annotated[str, _fits("purpose")] | None = None
    categories: tuple[Name, ...] = ()
    consent_ids: tuple[Name, ...] = ()
    decision_id: Annotated[str, _fits("decision_id")] | None = None
    policy_revision: Annotated[str, _fits("policy_revision")] | None = None
    outcome: Outcome
    reason: Annotated[str, Field(max_length=width("reason"))] | None = None
    payload_digest: Annotated[str, Field(pattern=HEX_DIGEST_PATTERN)] | None = None

    @field_validator("categories", "consent_ids")
    @classmethod
    def _sorted_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({redact_bsns(item) for item in value}))

    @field_validator("subject_ref", "actor_user")
    @classmethod
    def _no_bsn(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _refuse_bsn(value, str(info.field_name))

    @field_validator("reason", "purpose")
    @classmethod
    def _no_bsn_in_text(cls, value: str | None) -> str | None:
        # Redacted, not refused: a refusal here would fail the action the entry records.
        return None if value is None else redact_bsns(value)


class OversightScope(BaseModel):
    """The entries one organisation's officer may read: those in which the organisation acted,
    and those about the participants it contributed data about (their audit pseudonyms)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    party: str
    subject_refs: frozenset[str] = frozenset()


_PAGING = {"after_seq", "before_seq", "newest_first", "limit", "within"}


class AuditQuery(BaseModel):
    """Filters of an officer query; ``recorded_from`` is inclusive, ``recorded_until`` exclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_ref: str | None = None
    party: str | None = None
    actor_user: str | None = None
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
    # Set by the gateway from who asks, never by the asker; none: the whole log.
    within: OversightScope | None = None

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


_VIEW_TYPES: dict[Kind, type[Any]] = {
    Kind.SEQ: int,
    Kind.TIMESTAMP: str,
    Kind.TEXT: str,
    Kind.DIGEST: str,
    Kind.TEXTS: list[str],
    Kind.OUTCOME: str,
}


# One entry as officers and exports see it: the hashed members plus ``entry_hash`` (fields.py).
def _view_field(name: str) -> tuple[Any, Any]:
    member = BY_NAME[name]
    kind: Any = _VIEW_TYPES[member.kind]
    if member.since > 1:  # absent from the entries of earlier versions
        return (kind | None, None)
    return (kind | None if member.nullable else kind, ...)


_VIEW_FIELDS: dict[str, Any] = {name: _view_field(name) for name in DOCUMENT_FIELDS}
EntryView: type[BaseModel] = create_model("EntryView", **_VIEW_FIELDS)


# One page of an officer's search; built as EntryView is (the API writes it with orjson).
EntryPage: type[BaseModel] = create_model(
    "EntryPage",
    entries=(list[EntryView], ...),
    next_after_seq=(
        int | None,
        Field(description="Pass as afterSeq for the next page; null when this is the last page."),
    ),
)


class DailyStatistic(BaseModel):
    """How many entries one party caused on one UTC day, by outcome."""

    day: date
    party: str
    entries: int
    by_outcome: dict[str, int]


class CheckpointView(BaseModel):
    """A signed checkpoint as the API shows it (docs/audit-format.md §4): version 1 signs one
    entry; version 2 is a C2SP tlog-checkpoint note over the root of the Merkle tree."""

    version: int = Field(description="1: a signature over an entry; 2: a tree checkpoint")
    seq: int = Field(description="The entry signed; for version 2 also the tree size")
    entry_hash: str = Field(description="The entry_hash of entry seq")
    recorded_at: str = Field(description="The recorded_at of entry seq")
    signed_at: str
    kid: str = Field(description="The signing key's JWK thumbprint (GET /v1/audit/keys)")
    signature: str = Field(description="Ed25519, base64url: over §4.1's input or the note text")
    origin: str | None = Field(default=None, description="Version 2: the log's origin line")
    root_hash: str | None = Field(default=None, description="Version 2: the tree's root, hex")
    note: str | None = Field(
        default=None, description="Version 2: the signed note, witnesses' cosignatures included"
    )
    cosigned_by: list[str] = Field(
        default_factory=list, description="Version 2: the witnesses that cosigned it"
    )


class WitnessView(BaseModel):
    url: str
    vkey: str = Field(description="The witness's cosignature key (C2SP signed-note vkey)")


class LogView(BaseModel):
    """What a verifier of this log's checkpoints and proofs needs besides the JWKS."""

    origin: str = Field(description="The first line of every tree checkpoint")
    vkeys: list[str] = Field(
        description="The log's note verifier keys (C2SP signed-note), current first"
    )
    witnesses: list[WitnessView]

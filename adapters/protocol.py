"""The adapter protocol: partner payloads to canonical contributions, disclosed views back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

SubjectKind = Literal["bsn", "pseudonym"]


@dataclass(frozen=True)
class SubjectIdentifier:
    """How the payload names the participant: a BSN, or the sender's domain pseudonym.

    ``domain`` is the domain a payload says its pseudonym is of, when the format says so (FHIR's
    identifier system does); the gateway refuses one that is not the sender's.
    """

    kind: SubjectKind
    value: str
    location: str
    domain: str | None = None


@dataclass(frozen=True)
class CanonicalContribution:
    """One item in a canonical category, with where in the payload it came from."""

    subject: SubjectIdentifier
    category: str
    fields: dict[str, Any]
    location: str
    source_party: str | None = None
    observed_at: datetime | None = None


@dataclass(frozen=True)
class DroppedItem:
    """Something in the payload that was not taken in, with a reason code and a sentence.

    ``field`` names a dropped field or element as the payload spells it (``iban``), so that the
    answer says which part of a category was left out, not only that something was.
    """

    location: str
    reason: str
    detail: str
    category: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class ParsedPayload:
    """What an adapter made of one partner payload."""

    contributions: tuple[CanonicalContribution, ...]
    dropped: tuple[DroppedItem, ...] = ()
    subject: SubjectIdentifier | None = None

    @property
    def participant(self) -> SubjectIdentifier | None:
        """The participant the payload is about (every contribution names the same one)."""
        if self.subject is not None:
            return self.subject
        return self.contributions[0].subject if self.contributions else None


@dataclass(frozen=True)
class DisclosedView:
    """The minimal view one disclosure decided on, before a partner format renders it.

    ``subject_pseudonym`` is the pseudonym in ``domain``, the requester's; it is None when nothing
    was disclosed, so that an unknown participant and one without consent render alike.
    """

    subject_pseudonym: str | None
    domain: str
    decision_id: str
    purpose: str
    categories: dict[str, dict[str, Any]]
    withheld: dict[str, str]
    decided_at: datetime
    policy_revision: str


@dataclass(frozen=True)
class RenderedPayload:
    """A disclosed view in a partner's own format."""

    media_type: str
    body: bytes
    document: Any = field(default=None, compare=False)


class Adapter(Protocol):
    """One partner format: parse what the partner sends, render what it is shown."""

    format: str
    media_types: frozenset[str]

    def parse(self, body: bytes) -> ParsedPayload:
        """Map a payload to canonical contributions; raise ``PayloadError`` naming the fault."""
        ...

    def render(self, view: DisclosedView) -> RenderedPayload:
        """Render a disclosed view in this format; the subject is named by pseudonym only."""
        ...

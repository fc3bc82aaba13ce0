"""What a deletion notice says, what goes in to make one, and how a recipient answers it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Reason(StrEnum):
    """Why the recipient is asked to delete (GDPR Art. 17(1)(b) withdrawal, or erasure)."""

    WITHDRAWN = "withdrawn"
    NARROWED = "narrowed"
    EXPIRED = "expired"
    ERASED = "erased"


class Status(StrEnum):
    OPEN = "open"
    DELETED = "deleted"
    KEPT = "kept"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Received:
    """One category a party received in one disclosure, and the consents it relied on."""

    party: str
    domain: str
    category: str
    decision_id: str
    disclosed_at: datetime
    consent_ids: frozenset[str]


class DisclosureRef(BaseModel):
    """A disclosure a notice is about: which decision, when, which of the categories."""

    model_config = ConfigDict(frozen=True)

    decision_id: str
    disclosed_at: datetime
    categories: list[str]


@dataclass(frozen=True)
class NoticeDraft:
    """A notice to be made: to whom, about which categories and disclosures."""

    party: str
    domain: str
    categories: tuple[str, ...]
    disclosures: tuple[DisclosureRef, ...]


class Acknowledgement(BaseModel):
    """The recipient deleted the data, or keeps it on a legal ground the catalogue holds."""

    model_config = ConfigDict(extra="forbid")

    outcome: Status = Field(description="`deleted`, or `kept` with a `ground`")
    ground: str | None = Field(
        default=None,
        max_length=64,
        description="Why the data is kept: a ground the catalogue lists",
    )

    @model_validator(mode="after")
    def _kept_needs_a_ground(self) -> Acknowledgement:
        if self.outcome not in (Status.DELETED, Status.KEPT):
            raise ValueError("outcome is `deleted` or `kept`")
        if (self.outcome is Status.KEPT) != (self.ground is not None):
            raise ValueError("a ground is given with, and only with, `kept`")
        return self

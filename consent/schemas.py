"""Consent requests and views (pydantic); inbound models refuse unknown fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from bsn import NO_BSN

# Catalogue names and party ids start with a letter, so no number (and no BSN) passes as one.
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9._-]*$")
]


class GivenBy(StrEnum):
    PARTICIPANT = "participant"
    PROFESSIONAL = "professional"
    REPRESENTATIVE = "representative"


class RepresentativeRole(StrEnum):
    """Legal representatives under Dutch law (BW Book 1): mentor, curator, guardian (voogd)."""

    MENTOR = "mentor"
    CURATOR = "curator"
    GUARDIAN = "guardian"


class ConsentStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"  # valid_from still ahead
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class ConsentTerms(BaseModel):
    """What a participant consents to: who may receive which categories, for what, how long."""

    model_config = ConfigDict(extra="forbid")

    grantee: Name = Field(description="A party id (e.g. uwv-leiden) or a whole domain (e.g. uwv)")
    purpose: Name
    categories: list[Name] = Field(min_length=1, max_length=32)
    valid_from: AwareDatetime | None = Field(default=None, description="Default: now")
    valid_until: AwareDatetime | None = Field(default=None, description="Default: open-ended")


class ConsentAmendment(BaseModel):
    """Narrow or change a consent; unnamed terms carry over from the amended version."""

    model_config = ConfigDict(extra="forbid")

    categories: list[Name] | None = Field(default=None, min_length=1, max_length=32)
    valid_until: AwareDatetime | None = None


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, NO_BSN] | None = Field(default=None, max_length=500)


@dataclass(frozen=True)
class GivenHow:
    """How a consent was obtained; a professional or representative record carries evidence."""

    given_by: GivenBy
    recorded_by: str
    evidence_ref: str | None = None
    representative_role: RepresentativeRole | None = None


@dataclass(frozen=True)
class Vocabulary:
    """What the catalogue knows; passed in by the gateway (one source with the policies)."""

    purposes: dict[str, frozenset[str]]
    domains: frozenset[str]


class ConsentView(BaseModel):
    id: str
    version: int
    status: ConsentStatus
    grantee: str
    grantee_kind: str
    purpose: str
    categories: list[str]
    valid_from: datetime
    valid_until: datetime | None
    given_by: GivenBy
    representative_role: RepresentativeRole | None
    evidence_ref: str | None
    recorded_by: str
    supersedes: str | None
    created_at: datetime


class ConsentEventView(BaseModel):
    consent_id: str
    kind: str
    at: datetime
    actor: str
    reason: str | None
    related_consent_id: str | None

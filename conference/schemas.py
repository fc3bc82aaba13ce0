"""What a conference is scheduled with, how an answer was given, what an outcome holds (pydantic
where it comes from a request; frozen dataclasses where the gateway passes it in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bsn import NO_BSN

# Catalogue names and party ids start with a letter, so no number (and no BSN) passes as one.
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9._-]*$")
]
# At least one visible character, by the same rule in the document's regex dialect (ECMA-262)
# and the validator's.
VISIBLE = r"[^\s\x85\x1c-\x1f\uFEFF]"
Note = Annotated[str, StringConstraints(max_length=500), NO_BSN]
Advice = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=VISIBLE), NO_BSN]


class Answer(StrEnum):
    YES = "yes"
    NO = "no"


class GivenBy(StrEnum):
    """How an answer was given: the words of the consent registry's (domains share no code)."""

    PARTICIPANT = "participant"
    PROFESSIONAL = "professional"
    REPRESENTATIVE = "representative"


class RepresentativeRole(StrEnum):
    """Legal representatives under Dutch law (BW Book 1): mentor, curator, guardian (voogd)."""

    MENTOR = "mentor"
    CURATOR = "curator"
    GUARDIAN = "guardian"


@dataclass(frozen=True)
class Vocabulary:
    """What the catalogue knows, passed in by the gateway (one source with the policies)."""

    regions: frozenset[str]
    categories: frozenset[str]
    obstacles: frozenset[str]
    domains: frozenset[str]


@dataclass(frozen=True)
class Terms:
    """A conference as the chair schedules it."""

    purpose: str
    title: str
    region: str
    starts_at: datetime
    ends_at: datetime
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Member:
    """A party of a conference: its id and domain (its party type)."""

    party: str
    domain: str


@dataclass(frozen=True)
class GivenHow:
    """Who gave the answer and who recorded it; on paper or by a representative, with evidence."""

    given_by: GivenBy
    recorded_by: str
    evidence_ref: str | None = None
    representative_role: RepresentativeRole | None = None


@dataclass(frozen=True)
class ConferenceGrant:
    """A yes in force, as the policy reads it: for which conference, which parties, what."""

    id: str
    conference: str
    parties: tuple[str, ...]
    categories: tuple[str, ...]


class ObstacleFound(BaseModel):
    """An obstacle coded from the catalogue's vocabulary, with the party type it lies with."""

    model_config = ConfigDict(extra="forbid")

    code: Name = Field(description="A code of the catalogue's obstacle vocabulary, e.g. debts")
    domain: Name = Field(description="The party type it lies with (a catalogue domain), e.g. uwv")
    note: Note | None = Field(default=None, description="A note for the outcome; never counted")


class OutcomeDraft(BaseModel):
    """The chair's record of a case: the advice and the obstacles found."""

    model_config = ConfigDict(extra="forbid")

    advice: Advice
    obstacles: list[ObstacleFound] = Field(default_factory=list, max_length=20)

"""Plan, director and signal requests and views (pydantic); inbound models refuse unknown fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bsn import NO_BSN
from dbtypes import MAX_JSON_INT

# Catalogue names and party ids start with a letter, so no number (and no BSN) passes as one.
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9._-]*$")
]
# At least one visible character, by the same rule in the document's regex dialect (ECMA-262)
# and the validator's: a text of spaces and control characters only is refused alike.
VISIBLE = r"[^\s\x85\x1c-\x1f\uFEFF]"
# Free text other parties read never holds a BSN (NO_BSN).
Title = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=VISIBLE), NO_BSN]
Description = Annotated[str, StringConstraints(max_length=2000), NO_BSN]
Contact = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=VISIBLE), NO_BSN]


class ItemKind(StrEnum):
    GOAL = "goal"
    ACTION = "action"


class GoalStatus(StrEnum):
    OPEN = "open"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    CANCELLED = "cancelled"


class GoalDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description | None = None
    status: GoalStatus = GoalStatus.OPEN


class ActionDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description | None = None
    status: ActionStatus = ActionStatus.PLANNED
    due_date: date | None = None
    goal_id: str | None = Field(default=None, max_length=36, description="The goal it serves")


class ItemChange(BaseModel):
    """Change a goal or action: a new version; unnamed fields carry over from the current one.

    ``base_version`` is the version the change was made on; if the item moved on since, 409.
    """

    model_config = ConfigDict(extra="forbid")

    base_version: int | None = Field(default=None, ge=1, le=MAX_JSON_INT)
    title: Title | None = None
    description: Description | None = None
    status: Annotated[str, StringConstraints(max_length=16)] | None = None
    due_date: date | None = None
    goal_id: str | None = Field(default=None, max_length=36)


class ItemView(BaseModel):
    """One version of a goal or an action."""

    item_id: str
    kind: ItemKind
    version: int
    owner_party: str
    owner_domain: str
    title: str
    description: str | None
    status: str
    due_date: date | None
    goal_id: str | None
    recorded_by: str
    recorded_at: datetime
    supersedes: str | None = Field(description="The id of the version this one replaced")
    version_id: str


class DirectorView(BaseModel):
    party: str
    domain: str
    basis: str = Field(description="participant (assigned by them) or consent (a consent in force)")
    since: datetime


class AssignmentView(BaseModel):
    kind: str
    party: str | None
    previous_party: str | None
    basis: str
    assigned_by: str
    at: datetime


@dataclass(frozen=True)
class Director:
    """The director in force, as the gateway passes it to the policy."""

    party: str
    domain: str
    basis: str
    since: datetime


@dataclass(frozen=True)
class Grant:
    """What the plan needs to know of a consent in force (passed in; the plan never reads them)."""

    id: str
    grantee: str
    purpose: str


@dataclass(frozen=True)
class Involvement:
    """One party's signal, as stored."""

    signal_id: str
    party: str
    domain: str
    purpose: str
    contact: str
    signalled_at: datetime
    ended_at: datetime | None = None


SIGNALLED, ENDED = "signalled", "ended"


@dataclass(frozen=True)
class Notice:
    """One notification of a party about another party's involvement, or of its end."""

    id: int
    recipient_party: str
    participant_id: str
    about: Involvement
    created_at: datetime
    kind: str = SIGNALLED

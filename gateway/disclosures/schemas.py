"""Disclosure requests and the minimal view a partner gets back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.identity.subjects import SubjectRef

# Catalogue names and party ids start with a letter, so no number (and no BSN) passes as one.
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9._-]*$")
]


class DisclosureRequest(BaseModel):
    """Who about, for which purpose, which categories; ``role`` when the party holds several."""

    model_config = ConfigDict(extra="forbid")

    subject: SubjectRef
    purpose: Name
    categories: list[Name] = Field(min_length=1, max_length=32)
    role: Name | None = Field(default=None, description="The role the request is made in")


class Withheld(BaseModel):
    category: str
    code: str
    reason: str


class DisclosedCategory(BaseModel):
    category: str
    source_party: str
    observed_at: datetime
    fields: dict[str, Any]


class DisclosureView(BaseModel):
    """Only allowed categories with their allowed fields; withheld ones with the reason only.

    ``subject`` (your domain's pseudonym) is present when something was disclosed, so an
    unknown participant and one without consent give the same answer.
    """

    decision_id: str
    purpose: str
    decided_at: datetime
    policy_revision: str
    subject: str | None
    disclosed: list[DisclosedCategory]
    withheld: list[Withheld]
    obligations: list[str]

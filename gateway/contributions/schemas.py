"""The ingest endpoint's answer: what was stored, what was dropped and why."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AcceptedItem(BaseModel):
    contribution_id: str
    category: str
    fields: list[str] = Field(description="The fields stored (encrypted); values are not echoed")
    location: str = Field(description="Where in the payload it came from")


class DroppedItemView(BaseModel):
    location: str = Field(description="Where in the payload the dropped part is")
    category: str | None = None
    field: str | None = Field(
        default=None, description="The dropped field or element as the payload names it"
    )
    reason: str = Field(description="e.g. clinical-resource, never-disclosable, outside-catalogue")
    detail: str


class IngestResult(BaseModel):
    """The participant by the caller's domain pseudonym; a BSN is never echoed."""

    format: str
    subject_pseudonym: str
    accepted: list[AcceptedItem]
    dropped: list[DroppedItemView]

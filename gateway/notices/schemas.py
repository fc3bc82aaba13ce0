"""What a recipient reads of a deletion notice, and what the participant and officers see."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from notice.schemas import DisclosureRef, Reason, Status


class NoticeView(BaseModel):
    """A deletion notice as its recipient reads it: never any content, the participant under the
    recipient's own domain pseudonym."""

    notice_id: str
    cursor: int = Field(description="Pass as ?after= to read on")
    subject: str = Field(description="Your domain's pseudonym of the participant")
    reason: Reason
    categories: list[str]
    disclosures: list[DisclosureRef]
    created_at: datetime
    due_at: datetime = Field(description="Acknowledge by then")
    status: Status
    ground: str | None
    acknowledged_at: datetime | None
    superseded_by: str | None


class NoticeFeed(BaseModel):
    notices: list[NoticeView]
    next_cursor: int = Field(description="Pass as ?after= to read on; unchanged when nothing new")


class ToldRecipient(BaseModel):
    """What the participant sees: which organisation was told, and what it answered."""

    notice_id: str
    organisation: str
    party: str
    reason: Reason
    categories: list[str]
    told_at: datetime
    status: Status
    acknowledged_at: datetime | None
    ground: str | None
    ground_description: str | None


class OverdueNotice(BaseModel):
    """For privacy officers: a notice not acknowledged in time (no participant named)."""

    notice_id: str
    recipient_party: str
    reason: Reason
    categories: list[str]
    created_at: datetime
    due_at: datetime
    delivered_at: datetime | None

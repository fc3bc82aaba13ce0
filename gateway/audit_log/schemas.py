"""Response models of the audit-log area beyond the domain's own (``audit.schemas``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from gateway.notices.schemas import ToldRecipient


class AccessLogItem(BaseModel):
    seq: int
    at: datetime
    organisation: str
    party: str
    action: str
    outcome: str
    purpose: str | None
    categories: list[str]
    summary: str = Field(description="The entry in one plain sentence")


class AccessLog(BaseModel):
    items: list[AccessLogItem]
    next_after_seq: int | None
    deletion_notices: list[ToldRecipient] = Field(
        description="After each withdrawal, expiry or erasure: which organisations were told to "
        "delete what, and whether they confirmed or keep it on a legal ground"
    )

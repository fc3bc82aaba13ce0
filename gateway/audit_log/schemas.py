"""Response models of the audit-log area beyond the domain's own (``audit.schemas``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from audit.schemas import MAX_PAGE
from dbtypes import MAX_JSON_INT
from gateway.audit_log.grounds import ConsentGround
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
    withheld: list[str] = Field(
        default_factory=list,
        description="A disclosure: the categories asked for as well but not shared",
    )
    grantee: str | None = Field(
        default=None, description="A consent change: the party or domain the consent names"
    )
    summary: str = Field(description="The entry in one plain sentence")
    proof: str = Field(description="Where the proof that the log holds this entry is")


class AccessLog(BaseModel):
    items: list[AccessLogItem]
    next_after_seq: int | None
    next_before_seq: int | None = Field(
        default=None, description="Newest first: pass as before_seq for the page of older entries"
    )
    deletion_notices: list[ToldRecipient] = Field(
        description="After each withdrawal, expiry or erasure: which organisations were told to "
        "delete what, and whether they confirmed or keep it on a legal ground"
    )


class TimelineAsk(BaseModel):
    """A participant named in the body, so a BSN is never in a URL or a server's access log."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(
        min_length=9, max_length=64, description="A BSN or a participant pseudonym (64 hex)"
    )
    before_seq: int | None = Field(
        default=None, ge=1, le=MAX_JSON_INT, description="next_before_seq of a page"
    )
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    show_own_queries: bool = Field(
        default=False, description="Include the calling party's own audit.query entries"
    )


class TimelineEntry(BaseModel):
    entry: dict[str, Any] = Field(description="The entry as in docs/audit-format.md")
    consents_relied_on: list[ConsentGround] = Field(
        description="A disclosure: the consent versions it relied on (who gave them, when, "
        "to whom, for what)"
    )


class TimelinePage(BaseModel):
    subject_ref: str = Field(description="The participant's audit pseudonym")
    entries: list[TimelineEntry] = Field(description="Newest first")
    next_before_seq: int | None = Field(
        description="Pass as before_seq for the older entries; null on the last page"
    )

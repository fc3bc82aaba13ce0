"""Request and response models of involvement signals and coordination consent."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from consent.schemas import ConsentView
from gateway.identity.subjects import SubjectRef
from gateway.signals.matching import NotificationView
from plan.schemas import Contact, Name


class SignalRequest(BaseModel):
    """'My party is involved with this participant for this purpose; reach us here.'"""

    model_config = ConfigDict(extra="forbid")

    subject: SubjectRef
    purpose: Name
    contact: Contact = Field(description="How another professional reaches yours; no case content")


class SignalView(BaseModel):
    signal_id: str
    subject: str = Field(description="Your domain's pseudonym of the participant")
    purpose: str
    contact: str
    signalled_at: str
    created: bool = Field(description="False when your party had signalled this already")
    ended_at: datetime | None = Field(default=None, description="When your party ended it")


class FeedPage(BaseModel):
    notifications: list[NotificationView]
    next_cursor: int = Field(description="Pass as ?after= to read on; unchanged when nothing new")


class CoordinationConsent(BaseModel):
    """Consent to coordination among the parties involved with you (purpose case-coordination).

    Each named party (default: every party that signalled) gets a consent for the plan
    categories; the parties are then told of each other's involvement and contact.
    """

    model_config = ConfigDict(extra="forbid")

    parties: list[Name] | None = Field(default=None, max_length=32)


class CoordinationResult(BaseModel):
    consents: list[ConsentView]
    notified: int = Field(description="How many notifications this sent")

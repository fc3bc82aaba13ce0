"""How a partner names a participant: by its own domain's pseudonym, or by BSN (never echoed)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy.orm import Session

from gateway.auth.access_tokens import Caller
from gateway.errors import InvalidInput
from gateway.identity.bsn import is_valid_bsn
from gateway.identity.keys import IdentityKeys
from gateway.identity.vault import ParticipantRef, enrol, ref_by_bsn, ref_by_pseudonym

Pseudonym = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
Bsn = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]


class SubjectRef(BaseModel):
    """Exactly one of ``pseudonym`` (the caller's domain pseudonym) or ``bsn``."""

    model_config = ConfigDict(extra="forbid")

    pseudonym: Pseudonym | None = Field(default=None, description="Your domain's pseudonym")
    bsn: Bsn | None = Field(default=None, description="Checked with the 11-proof; never returned")

    @model_validator(mode="after")
    def _exactly_one(self) -> SubjectRef:
        if (self.pseudonym is None) == (self.bsn is None):
            raise ValueError("name the participant by exactly one of pseudonym or bsn")
        return self


def _checked_bsn(bsn: str) -> str:
    if not is_valid_bsn(bsn):
        raise InvalidInput("the BSN fails the 11-proof", field="subject.bsn")
    return bsn


def resolve_subject(
    session: Session, keys: IdentityKeys, caller: Caller, subject: SubjectRef
) -> ParticipantRef | None:
    """The participant named, or None; callers answer 'unknown' and 'no consent' alike."""
    if subject.bsn is not None:
        return ref_by_bsn(session, keys, _checked_bsn(subject.bsn))
    assert subject.pseudonym is not None
    return ref_by_pseudonym(session, caller.domain, subject.pseudonym)


def resolve_or_enrol_subject(
    session: Session,
    keys: IdentityKeys,
    caller: Caller,
    subject: SubjectRef,
    *,
    domains: frozenset[str],
    now: datetime,
) -> ParticipantRef | None:
    """As ``resolve_subject``, but a valid BSN not seen before enrols the participant."""
    if subject.bsn is not None:
        return enrol(
            session=session, keys=keys, bsn=_checked_bsn(subject.bsn), domains=domains, now=now
        )
    return resolve_subject(session, keys, caller, subject)

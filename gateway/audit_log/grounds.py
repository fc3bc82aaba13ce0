"""On what grounds: the consents a disclosure relied on, as an officer reads them.

A disclosure's entry names the consent versions the policy relied on (``consent_ids``); this
reads each version back: who gave it, when, to whom, for what and which categories. A version
is never changed after it is written, so what is shown is what was in force then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.models import Consent


class ConsentGround(BaseModel):
    """One consent version a disclosure relied on."""

    id: str
    version: int
    given_by: str
    recorded_by: str
    given_at: datetime
    grantee: str
    purpose: str
    categories: list[str]
    valid_until: datetime | None


def grounds(session: Session, consent_ids: Iterable[str]) -> dict[str, ConsentGround]:
    """The consent versions with these ids, by id; an id not found is left out."""
    wanted = sorted(set(consent_ids))
    if not wanted:
        return {}
    rows = session.scalars(select(Consent).where(Consent.id.in_(wanted)))
    return {
        row.id: ConsentGround(
            id=row.id,
            version=row.version,
            given_by=row.given_by,
            recorded_by=row.recorded_by,
            given_at=row.created_at,
            grantee=row.grantee,
            purpose=row.purpose,
            categories=list(row.categories),
            valid_until=row.valid_until,
        )
        for row in rows
    }

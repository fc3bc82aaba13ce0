"""How a partner names a participant: by its own domain's pseudonym, or by BSN (never echoed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import Select
from sqlalchemy.orm import Session

from bsn import is_valid_bsn
from dbtypes.rows import plain_rows
from gateway.auth.access_tokens import Caller
from gateway.identity.keys import IdentityKeys
from gateway.identity.vault import (
    ID_BY_BSN_INDEX,
    ID_BY_ID,
    ID_BY_PSEUDONYM,
    ParticipantRef,
    blind_index,
    enrol,
)

Pseudonym = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]


def _passes_eleven_proof(bsn: str) -> str:
    if not is_valid_bsn(bsn):
        raise ValueError("the BSN fails the 11-proof")
    return bsn


# Checked in the request model, so a bad BSN is a 422 before any transaction begins.
Bsn = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$"), AfterValidator(_passes_eleven_proof)]


SUBJECT_KEYS = ("pseudonym", "bsn")


def _exactly_one_in_schema(schema: dict[str, Any]) -> None:
    """The document says what the validator checks: one key, never null (JSON Schema ``oneOf``)."""
    properties = schema["properties"]
    for key in SUBJECT_KEYS:
        named = properties[key]
        (value,) = [option for option in named.pop("anyOf") if option != {"type": "null"}]
        named.pop("default", None)
        named.update(value)
    schema["oneOf"] = [{"required": [key]} for key in SUBJECT_KEYS]


class SubjectRef(BaseModel):
    """Exactly one of ``pseudonym`` (the caller's domain pseudonym) or ``bsn``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_exactly_one_in_schema)

    pseudonym: Pseudonym | None = Field(default=None, description="Your domain's pseudonym")
    bsn: Bsn | None = Field(default=None, description="Checked with the 11-proof; never returned")

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict):
            named = [key for key in SUBJECT_KEYS if key in data]
            if len(named) != 1 or data[named[0]] is None:
                raise PydanticCustomError(
                    "one_of", "name the participant by exactly one of pseudonym or bsn"
                )
        return data


@dataclass(frozen=True, slots=True)
class SubjectQuery:
    """The statement that finds the named participant's id, with its parameters."""

    statement: Select[str]
    parameters: dict[str, str]


def subject_query(keys: IdentityKeys, caller: Caller, subject: SubjectRef) -> SubjectQuery:
    """A BSN by its blind index; a pseudonym is looked up in the caller's domain only."""
    if subject.bsn is not None:
        index = blind_index(keys, subject.bsn)
        return SubjectQuery(ID_BY_BSN_INDEX, {"index": index})
    assert subject.pseudonym is not None
    return SubjectQuery(
        ID_BY_PSEUDONYM, {"domain": caller.domain, "pseudonym": subject.pseudonym.lower()}
    )


def resolve_subject(
    session: Session, keys: IdentityKeys, caller: Caller, subject: SubjectRef
) -> ParticipantRef | None:
    """The participant named, or None; callers answer 'unknown' and 'no consent' alike."""
    return resolve_query(session, subject_query(keys, caller, subject))


def resolve_query(session: Session, query: SubjectQuery) -> ParticipantRef | None:
    """The participant ``query`` finds, or None."""
    found: ParticipantRef | None = plain_rows(session, query.statement, query.parameters).first()
    return found


def known_participant(participant_id: str) -> SubjectQuery:
    """A participant the gateway already holds by id (a case on a conference's agenda)."""
    return SubjectQuery(ID_BY_ID, {"participant_id": participant_id})


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
        return enrol(session=session, keys=keys, bsn=subject.bsn, domains=domains, now=now)
    return resolve_subject(session, keys, caller, subject)

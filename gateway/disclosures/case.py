"""What a disclosure is decided on, read in one statement: the participant named, the consents
in force and the newest director assignment.

Read one after the other they were three round trips to the database on every disclosure, each
of them time in which the batch writer's one connection did nothing else; on PostgreSQL they
were a third of that thread's time. The rules stay where they are kept: consents in force are
``consent.service.in_force_where`` and the director is ``plan.service.director_in_force``;
this module only joins them to the participant named. One row per consent in force (one row
with empty consent columns when there is none), each carrying the newest assignment; no row
when no participant goes by that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Select, and_, bindparam, select
from sqlalchemy.orm import Session

from consent.models import Consent
from consent.service import IN_FORCE_ORDER, in_force_where
from dbtypes.rows import plain_rows
from gateway.auth.access_tokens import Caller
from gateway.identity.keys import IdentityKeys
from gateway.identity.subjects import SubjectQuery, SubjectRef, subject_query
from gateway.identity.vault import ID_BY_BSN_INDEX, ID_BY_ID, ID_BY_PSEUDONYM, ParticipantRef
from plan.models import DirectorAssignment
from plan.schemas import Director
from plan.service import director_in_force, latest_assignment_id


class GrantRow(NamedTuple):
    """A consent in force, as the policy reads it (``consent.service.Grant``)."""

    id: str
    grantee: str
    purpose: str
    categories: list[str]


@dataclass(frozen=True, slots=True)
class Case:
    """The participant named (None when unknown), what they consented to, who directs."""

    participant: ParticipantRef | None
    grants: tuple[GrantRow, ...]
    director: Director | None

    @property
    def director_party(self) -> str | None:
        """The director as the policy input names it."""
        return None if self.director is None else self.director.party


UNKNOWN = Case(participant=None, grants=(), director=None)


def _case_of(named_ids: Select[str]) -> Select[Any]:
    named = named_ids.subquery("named")
    at: BindParameter[datetime] = bindparam("at")
    return (
        select(
            named.c.id,
            Consent.id.label("consent_id"),
            Consent.grantee,
            Consent.purpose,
            Consent.categories,
            DirectorAssignment.party,
            DirectorAssignment.domain,
            DirectorAssignment.basis,
            DirectorAssignment.at,
        )
        .select_from(named)
        .outerjoin(Consent, and_(*in_force_where(named.c.id, at)))
        .outerjoin(DirectorAssignment, DirectorAssignment.id == latest_assignment_id(named.c.id))
        .order_by(*IN_FORCE_ORDER)
    )


# Built once per way of naming a participant, keyed by the statement that finds its id.
_CASES = {named: _case_of(named) for named in (ID_BY_BSN_INDEX, ID_BY_PSEUDONYM, ID_BY_ID)}


def read_case(
    session: Session, keys: IdentityKeys, caller: Caller, subject: SubjectRef, at: datetime
) -> Case:
    """The case as it stands at ``at``, in the session's transaction; an unknown participant
    simply has no consents (the caller answers 'unknown' and 'no consent' alike)."""
    return read_named_case(session, subject_query(keys, caller, subject), at)


def read_named_case(session: Session, query: SubjectQuery, at: datetime) -> Case:
    """As :func:`read_case`, for a participant found by ``query`` (a reader's frame)."""
    rows = plain_rows(session, _CASES[query.statement], {**query.parameters, "at": at}).all()
    if not rows:
        return UNKNOWN
    grants = tuple(
        GrantRow(row.consent_id, row.grantee, row.purpose, row.categories)
        for row in rows
        if row.consent_id is not None
    )
    return Case(participant=rows[0], grants=grants, director=director_in_force(rows[0], grants))

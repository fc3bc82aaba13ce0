"""A case's outcome: the advice and the obstacles found, coded from the catalogue's vocabulary.

Recorded again, it is a new version and the newest counts (in the register too).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conference.errors import ConferenceConflict, InvalidConference
from conference.models import Case, Conference, Outcome
from conference.schemas import OutcomeDraft, Vocabulary
from conference.service import Clock


def record_outcome(
    *,
    session: Session,
    conference: Conference,
    case: Case,
    draft: OutcomeDraft,
    plan_items: Sequence[str],
    recorded_by: str,
    vocabulary: Vocabulary,
    clock: Clock,
) -> Outcome:
    """The advice and the coded obstacles of one case, once the conference has begun; recorded
    again, it is a new version and the newest counts (in the register too)."""
    now = clock()
    if now < conference.starts_at:
        raise ConferenceConflict(
            "an outcome is recorded once the conference has begun", reason="conference.not_open"
        )
    check_obstacles(draft, vocabulary)
    latest = latest_outcomes(session, [case.id]).get(case.id)
    outcome = Outcome(
        id=str(uuid.uuid4()), case_id=case.id, conference_id=conference.id,
        version=1 if latest is None else latest.version + 1, advice=draft.advice,
        obstacles=[o.model_dump(exclude_none=True) for o in draft.obstacles],
        plan_items=list(plan_items), recorded_by=recorded_by, recorded_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(outcome)
            session.flush()
    except IntegrityError:
        raise ConferenceConflict(
            "another outcome was recorded meanwhile", reason="conference.outcome_changed"
        ) from None
    return outcome


def check_obstacles(draft: OutcomeDraft, vocabulary: Vocabulary) -> None:
    """Each obstacle coded from the vocabulary, lying with a known party type, named once."""
    seen: set[tuple[str, str]] = set()
    for index, obstacle in enumerate(draft.obstacles):
        if obstacle.code not in vocabulary.obstacles:
            raise InvalidConference(
                f"unknown obstacle code {obstacle.code!r}",
                field=f"obstacles/{index}/code",
                valid=sorted(vocabulary.obstacles),
            )
        if obstacle.domain not in vocabulary.domains:
            raise InvalidConference(
                f"unknown party type {obstacle.domain!r}",
                field=f"obstacles/{index}/domain",
                valid=sorted(vocabulary.domains),
            )
        if (obstacle.code, obstacle.domain) in seen:
            raise InvalidConference(
                f"obstacle {obstacle.code} with {obstacle.domain} is named twice",
                field=f"obstacles/{index}",
            )
        seen.add((obstacle.code, obstacle.domain))


def latest_outcomes(session: Session, case_ids: Iterable[str]) -> dict[str, Outcome]:
    """The newest outcome of each case that has one."""
    wanted = list(case_ids)
    if not wanted:
        return {}
    newest = (
        select(Outcome.case_id, func.max(Outcome.version).label("version"))
        .where(Outcome.case_id.in_(wanted))
        .group_by(Outcome.case_id)
        .subquery()
    )
    rows = session.scalars(
        select(Outcome).join(
            newest, (Outcome.case_id == newest.c.case_id) & (Outcome.version == newest.c.version)
        )
    )
    return {row.case_id: row for row in rows}

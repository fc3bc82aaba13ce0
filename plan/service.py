"""The shared plan and its director: versioned goals and actions, append-only assignments.

Nothing is overwritten: a change is a new version that supersedes the current one, and of two
concurrent changes to one version exactly one succeeds (a unique ``(item_id, version)``). Who may
change what is decided here (a party changes only its own actions; goals are the director's);
who may *read* the plan is the policy's decision, taken by the gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from dbtypes.rows import plain_rows
from plan.errors import (
    DirectorNotAllowed,
    InvalidPlanInput,
    NotYours,
    PlanItemNotFound,
    StaleVersion,
)
from plan.models import DirectorAssignment, PlanItem
from plan.schemas import (
    ActionDraft,
    ActionStatus,
    AssignmentView,
    Director,
    GoalDraft,
    GoalStatus,
    ItemChange,
    ItemKind,
    ItemView,
)

Clock = Callable[[], datetime]
COORDINATION = "case-coordination"
PARTICIPANT = "participant"


class GrantLike(Protocol):
    """A consent in force, as far as directorship is concerned."""

    @property
    def grantee(self) -> str: ...

    @property
    def purpose(self) -> str: ...


# --- goals and actions ------------------------------------------------------------------------


def add_goal(
    *,
    session: Session,
    participant_id: str,
    draft: GoalDraft,
    party: str,
    domain: str,
    clock: Clock,
) -> PlanItem:
    """A new goal (version 1), set by the participant's director."""
    return _add(
        session, participant_id, ItemKind.GOAL, party, domain, clock(),
        title=draft.title, description=draft.description, status=draft.status.value,
        due_date=None, goal_id=None, recorded_by=party,
    )  # fmt: skip


def add_action(
    *,
    session: Session,
    participant_id: str,
    draft: ActionDraft,
    party: str,
    domain: str,
    clock: Clock,
    recorded_by: str | None = None,
) -> PlanItem:
    """A new action (version 1) owned by ``party``; a named goal must be one of this plan's.

    ``recorded_by`` is who wrote it down when that is not the owner (a conference's chair).
    """
    if draft.goal_id is not None:
        _current_goal(session, participant_id, draft.goal_id)
    return _add(
        session, participant_id, ItemKind.ACTION, party, domain, clock(),
        title=draft.title, description=draft.description, status=draft.status.value,
        due_date=draft.due_date, goal_id=draft.goal_id, recorded_by=recorded_by or party,
    )  # fmt: skip


def change_item(
    *,
    session: Session,
    participant_id: str,
    item_id: str,
    change: ItemChange,
    party: str,
    is_director: bool,
    clock: Clock,
) -> PlanItem:
    """A new version of a goal (director only) or an action (its owner only)."""
    current = current_item(session=session, participant_id=participant_id, item_id=item_id)
    if current.kind == ItemKind.ACTION and current.owner_party != party:
        raise NotYours(f"action {item_id} belongs to {current.owner_party}; only it may change it")
    if current.kind == ItemKind.GOAL and not is_director:
        raise NotYours("only the participant's director changes the plan's goals")
    if change.base_version is not None and change.base_version != current.version:
        raise StaleVersion(f"{current.kind} {item_id} is at version {current.version} now")
    fields = change.model_dump(exclude_unset=True, exclude={"base_version"})
    status = fields.get("status", current.status)
    _check_status(ItemKind(current.kind), status)
    goal_id = fields.get("goal_id", current.goal_id)
    if current.kind == ItemKind.ACTION and goal_id is not None and goal_id != current.goal_id:
        _current_goal(session, participant_id, goal_id)
    successor = PlanItem(
        id=str(uuid.uuid4()),
        item_id=current.item_id,
        participant_id=participant_id,
        kind=current.kind,
        version=current.version + 1,
        supersedes=current.id,
        owner_party=current.owner_party,
        owner_domain=current.owner_domain,
        title=fields.get("title") or current.title,
        description=fields.get("description", current.description),
        status=status,
        due_date=fields.get("due_date", current.due_date) if current.kind == "action" else None,
        goal_id=goal_id if current.kind == ItemKind.ACTION else None,
        recorded_by=party,
        recorded_at=clock(),
    )
    try:
        with session.begin_nested():
            session.add(successor)
            session.flush()
    except IntegrityError:
        raise StaleVersion(
            f"{current.kind} {item_id} was changed by a concurrent request"
        ) from None
    return successor


def current_item(*, session: Session, participant_id: str, item_id: str) -> PlanItem:
    """The newest version of one item of this participant's plan."""
    item = session.scalars(
        select(PlanItem)
        .where(PlanItem.item_id == item_id, PlanItem.participant_id == participant_id)
        .order_by(PlanItem.version.desc())
        .limit(1)
    ).first()
    if item is None:
        raise PlanItemNotFound(f"no plan item {item_id}")
    return item


def participant_of_item(*, session: Session, item_id: str) -> str | None:
    """Whose plan an item is in, so a change can name the item alone."""
    return session.scalars(
        select(PlanItem.participant_id).where(PlanItem.item_id == item_id).limit(1)
    ).first()


def current_items(
    *, session: Session, participant_id: str, kind: ItemKind | None = None
) -> list[PlanItem]:
    """The newest version of every goal and action, oldest item first."""
    newest = (
        select(PlanItem.item_id, func.max(PlanItem.version).label("version"))
        .where(PlanItem.participant_id == participant_id)
        .group_by(PlanItem.item_id)
        .subquery()
    )
    query = select(PlanItem).join(
        newest, (PlanItem.item_id == newest.c.item_id) & (PlanItem.version == newest.c.version)
    )
    if kind is not None:
        query = query.where(PlanItem.kind == kind.value)
    items = session.scalars(query).all()
    first_seen = _first_recorded(session, participant_id)
    return sorted(items, key=lambda item: (first_seen[item.item_id], item.item_id))


def item_history(*, session: Session, participant_id: str, item_id: str) -> list[PlanItem]:
    """Every version of one item, oldest first."""
    versions = session.scalars(
        select(PlanItem)
        .where(PlanItem.item_id == item_id, PlanItem.participant_id == participant_id)
        .order_by(PlanItem.version)
    ).all()
    if not versions:
        raise PlanItemNotFound(f"no plan item {item_id}")
    return list(versions)


def item_view(item: PlanItem) -> ItemView:
    return ItemView(
        item_id=item.item_id, kind=ItemKind(item.kind), version=item.version,
        owner_party=item.owner_party, owner_domain=item.owner_domain, title=item.title,
        description=item.description, status=item.status, due_date=item.due_date,
        goal_id=item.goal_id, recorded_by=item.recorded_by, recorded_at=item.recorded_at,
        supersedes=item.supersedes, version_id=item.id,
    )  # fmt: skip


def _add(
    session: Session,
    participant_id: str,
    kind: ItemKind,
    party: str,
    domain: str,
    now: datetime,
    **fields: object,
) -> PlanItem:
    item = PlanItem(
        id=str(uuid.uuid4()),
        item_id=str(uuid.uuid4()),
        participant_id=participant_id,
        kind=kind.value,
        version=1,
        supersedes=None,
        owner_party=party,
        owner_domain=domain,
        recorded_at=now,
        **fields,
    )
    session.add(item)
    session.flush()
    return item


def _current_goal(session: Session, participant_id: str, goal_id: str) -> PlanItem:
    try:
        goal = current_item(session=session, participant_id=participant_id, item_id=goal_id)
    except PlanItemNotFound:
        raise InvalidPlanInput(f"no goal {goal_id} in this plan", field="goal_id") from None
    if goal.kind != ItemKind.GOAL:
        raise InvalidPlanInput(f"{goal_id} is an action, not a goal", field="goal_id")
    return goal


def _check_status(kind: ItemKind, status: str) -> None:
    valid = [s.value for s in (GoalStatus if kind is ItemKind.GOAL else ActionStatus)]
    if status not in valid:
        raise InvalidPlanInput(
            f"status of a {kind.value} is one of {', '.join(valid)}", field="status"
        )


def _first_recorded(session: Session, participant_id: str) -> dict[str, datetime]:
    rows = session.execute(
        select(PlanItem.item_id, func.min(PlanItem.recorded_at))
        .where(PlanItem.participant_id == participant_id)
        .group_by(PlanItem.item_id)
    )
    return {item_id: at for item_id, at in rows}


# --- the director -----------------------------------------------------------------------------


class AssignmentRow(Protocol):
    """The columns of a director assignment that say who directs now, and on what basis."""

    @property
    def party(self) -> str | None: ...

    @property
    def domain(self) -> str | None: ...

    @property
    def basis(self) -> str | None: ...

    @property
    def at(self) -> datetime | None: ...


def latest_assignment_id(participant_id: ColumnElement[str]) -> ScalarSelect[int]:
    """The participant's newest assignment (ids only grow); an ended one names no party.

    Over an alias of the table, so that a statement joining assignments can compare with it.
    """
    assignments = aliased(DirectorAssignment, name="assignments")
    return (
        select(func.max(assignments.id))
        .where(assignments.participant_id == participant_id)
        .scalar_subquery()
    )


# Built once: it runs on every director lookup, where building it cost more than running it.
_LATEST_ASSIGNMENT = select(
    DirectorAssignment.party,
    DirectorAssignment.domain,
    DirectorAssignment.basis,
    DirectorAssignment.at,
).where(DirectorAssignment.id == latest_assignment_id(bindparam("participant_id")))


def current_director(
    *, session: Session, participant_id: str, consents: Iterable[GrantLike]
) -> Director | None:
    """The director in force, read from the participant's assignments (see ``director_in_force``)."""
    latest = plain_rows(session, _LATEST_ASSIGNMENT, {"participant_id": participant_id}).first()
    return director_in_force(latest, consents)


def director_in_force(
    latest: AssignmentRow | None, consents: Iterable[GrantLike]
) -> Director | None:
    """The director in force: the newest assignment, while its basis holds.

    An assignment by the participant holds until they end it; one made by a partner on the
    strength of a consent holds while a ``case-coordination`` consent naming that party is in
    force (GDPR Art. 7(3): withdrawing that consent ends the directorship at once).
    """
    if latest is None or latest.party is None or latest.domain is None:
        return None
    if latest.basis != PARTICIPANT and not coordination_consented(consents, latest.party):
        return None
    assert latest.basis is not None and latest.at is not None  # set on every assignment
    return Director(party=latest.party, domain=latest.domain, basis=latest.basis, since=latest.at)


def coordination_consented(consents: Iterable[GrantLike], party: str) -> bool:
    """A consent in force for case coordination names this party itself."""
    return any(c.purpose == COORDINATION and c.grantee == party for c in consents)


def assign_director(
    *,
    session: Session,
    participant_id: str,
    party: str,
    domain: str,
    assigned_by: str,
    consent_id: str | None,
    current: Director | None,
    clock: Clock,
) -> DirectorAssignment:
    """Assign (or hand over to) ``party``; by the participant, or on a consent in force."""
    if assigned_by != PARTICIPANT and consent_id is None:
        raise DirectorNotAllowed(
            f"no consent in force for {COORDINATION} names {party}; the participant must "
            "consent to coordination by that party first",
            reason="director.consent_missing",
        )
    row = DirectorAssignment(
        participant_id=participant_id,
        kind="assigned" if current is None else "handed-over",
        party=party,
        domain=domain,
        previous_party=None if current is None else current.party,
        basis=PARTICIPANT if assigned_by == PARTICIPANT else "consent",
        consent_id=consent_id,
        assigned_by=assigned_by,
        at=clock(),
    )
    session.add(row)
    session.flush()
    return row


def end_director(
    *, session: Session, participant_id: str, current: Director, ended_by: str, clock: Clock
) -> DirectorAssignment:
    """The participant ends the directorship; the plan stays."""
    row = DirectorAssignment(
        participant_id=participant_id, kind="ended", party=None, domain=None,
        previous_party=current.party, basis=PARTICIPANT, consent_id=None,
        assigned_by=ended_by, at=clock(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def director_history(*, session: Session, participant_id: str) -> list[AssignmentView]:
    """Every assignment, hand-over and end, oldest first."""
    rows = session.scalars(
        select(DirectorAssignment)
        .where(DirectorAssignment.participant_id == participant_id)
        .order_by(DirectorAssignment.id)
    )
    return [
        AssignmentView(
            kind=row.kind,
            party=row.party,
            previous_party=row.previous_party,
            basis=row.basis,
            assigned_by=row.assigned_by,
            at=row.at,
        )
        for row in rows
    ]

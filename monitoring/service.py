"""Monitoring rules that touch the database: the privacy budget per region per year and its
ledger, the stored releases, and the participants' objections (GDPR Art. 21)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from monitoring.errors import BudgetExceeded, ReleaseNotFound
from monitoring.models import Budget, LedgerEntry, Objection, Release

OBJECTED, LIFTED = "objected", "lifted"
# Spending is compared to the budget in millionths of an epsilon, so that float sums of
# releases that exactly use it up are not refused for a rounding error.
_MICRO = 1_000_000


def locked_budget(session: Session, *, region: str, year: int) -> Budget:
    """The region's budget row for the year, created at zero and locked until the transaction
    ends: two releases of one region are spent one after the other, never both on one reading."""
    insert = (
        postgresql_insert
        if session.bind is not None and session.bind.dialect.name == "postgresql"
        else sqlite_insert
    )
    session.execute(
        insert(Budget).values(region=region, year=year, spent=0.0).on_conflict_do_nothing()
    )
    budget = session.get(Budget, (region, year), with_for_update=True, populate_existing=True)
    assert budget is not None
    return budget


def check_budget(budget: Budget, *, total: float, asked: float) -> None:
    """Refuse a release that would spend more than is left of the year's budget."""
    if round((budget.spent + asked) * _MICRO) > round(total * _MICRO):
        raise BudgetExceeded(
            region=budget.region, year=budget.year, total=total, spent=budget.spent, asked=asked
        )


def spend(
    session: Session,
    budget: Budget,
    *,
    release_id: str,
    party: str,
    epsilon: float,
    total: float,
    at: datetime,
) -> LedgerEntry:
    """Spend ``epsilon`` of the locked budget for one release, and write it in the ledger."""
    check_budget(budget, total=total, asked=epsilon)
    budget.spent = round(budget.spent + epsilon, 9)
    entry = LedgerEntry(
        region=budget.region, year=budget.year, release_id=release_id, party=party,
        epsilon=epsilon, spent_after=budget.spent, total=total, at=at,
    )  # fmt: skip
    session.add(entry)
    session.flush()
    return entry


def ledger(session: Session, *, region: str, year: int) -> Sequence[LedgerEntry]:
    """Every release's spending from the region's budget for the year, oldest first."""
    query = select(LedgerEntry).where(LedgerEntry.region == region, LedgerEntry.year == year)
    return session.scalars(query.order_by(LedgerEntry.seq)).all()


def spent(session: Session, *, region: str, year: int) -> float:
    budget = session.get(Budget, (region, year))
    return budget.spent if budget is not None else 0.0


def store_release(session: Session, release: Release) -> Release:
    session.add(release)
    session.flush()
    return release


def find_release(session: Session, *, release_id: str, regions: Collection[str]) -> Release:
    """A release of one of ``regions``; any other is not found."""
    release = session.get(Release, release_id)
    if release is None or release.region not in regions:
        raise ReleaseNotFound(f"no release {release_id}")
    return release


def releases_of(
    session: Session, *, regions: Collection[str], limit: int = 50
) -> Sequence[Release]:
    """The newest releases of ``regions``, newest first."""
    query = select(Release).where(Release.region.in_(list(regions)))
    return session.scalars(query.order_by(Release.created_at.desc()).limit(limit)).all()


def latest_release(session: Session, *, region: str) -> Release | None:
    return next(iter(releases_of(session, regions=[region], limit=1)), None)


def record_objection(
    session: Session, *, participant_id: str, objected: bool, at: datetime
) -> bool:
    """Object to being counted, or lift the objection; True when that changed anything."""
    if has_objected(session, participant_id=participant_id) == objected:
        return False
    session.add(
        Objection(participant_id=participant_id, kind=OBJECTED if objected else LIFTED, at=at)
    )
    session.flush()
    return True


def has_objected(session: Session, *, participant_id: str) -> bool:
    """Whether the participant's newest word is an objection."""
    newest = session.scalars(
        select(Objection.kind)
        .where(Objection.participant_id == participant_id)
        .order_by(Objection.seq.desc())
        .limit(1)
    ).first()
    return newest == OBJECTED


def objectors(session: Session, *, participant_ids: Collection[str]) -> set[str]:
    """Of ``participant_ids``, those whose newest word is an objection."""
    if not participant_ids:
        return set()
    newest = (
        select(Objection.participant_id, func.max(Objection.seq).label("seq"))
        .where(Objection.participant_id.in_(list(participant_ids)))
        .group_by(Objection.participant_id)
        .subquery()
    )
    rows = session.execute(
        select(Objection.participant_id).join(newest, Objection.seq == newest.c.seq)
        .where(Objection.kind == OBJECTED)
    )  # fmt: skip
    return {row[0] for row in rows}

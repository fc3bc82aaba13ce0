"""Consent service rules that need more than one transaction: races, and the audit trail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from consent import service
from consent.errors import ConsentClosed
from consent.models import ConsentEvent
from consent.schemas import ConsentTerms, GivenBy, GivenHow, Vocabulary
from gateway.core.db import make_engine, make_sessionmaker, transaction
from gateway.migrations.runner import upgrade_to_head

VOCABULARY = Vocabulary(
    purposes={"reintegration": frozenset({"care.involvement", "income.benefit"})},
    domains=frozenset({"uwv", "ggz"}),
)


def clock() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def sessions(database_url: str) -> Iterator[object]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_two_concurrent_revocations_exactly_one_succeeds(sessions: object) -> None:
    factory = sessions  # a sessionmaker
    with transaction(factory) as session:  # type: ignore[arg-type]
        consent = service.grant(
            session=session,
            participant_id="p-1",
            terms=ConsentTerms(
                grantee="uwv", purpose="reintegration", categories=["care.involvement"]
            ),
            how=GivenHow(given_by=GivenBy.PARTICIPANT, recorded_by="participant"),
            grantee_kind="domain",
            vocabulary=VOCABULARY,
            clock=clock,
        )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def revoke() -> None:
        barrier.wait()
        try:
            with transaction(factory) as session:  # type: ignore[arg-type]
                service.revoke(
                    session=session, participant_id="p-1", consent_id=consent.id,
                    reason=None, actor="participant", clock=clock,
                )  # fmt: skip
            outcomes.append("revoked")
        except ConsentClosed:
            outcomes.append("conflict")

    threads = [threading.Thread(target=revoke) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "revoked"]
    with transaction(factory) as session:  # type: ignore[arg-type]
        kinds = session.scalars(
            select(ConsentEvent.kind)
            .where(ConsentEvent.consent_id == consent.id)
            .order_by(ConsentEvent.id)
        ).all()
    assert kinds == ["granted", "revoked"]

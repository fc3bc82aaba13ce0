"""A version's ``closed_at`` is derived from its events and never disagrees with them: after any
sequence of grants, amendments, revocations and time passing, and after the migration that
fills it for versions closed before it existed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from consent import service as consents
from consent.errors import ConsentClosed, InvalidConsent
from consent.models import CLOSING_EVENTS, Consent, ConsentEvent
from consent.schemas import ConsentAmendment, ConsentStatus, ConsentTerms
from gateway.core.db import make_engine, make_sessionmaker, transaction
from gateway.disclosures.case import read_case
from gateway.identity.keys import IdentityKeys, load_identity_keys
from gateway.identity.subjects import SubjectRef
from gateway.identity.vault import enrol
from gateway.migrations.runner import alembic_config, upgrade_to_head
from tests.consent.helpers import BY_PARTICIPANT, CATEGORIES, UWV, VOCABULARY, fresh_bsn
from tests.support import SettableClock


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    upgrade_to_head(engine)
    return make_sessionmaker(engine)


@pytest.fixture
def keys(tmp_path: Path) -> IdentityKeys:
    return load_identity_keys(tmp_path / "identity-keys.json", create=True)


def assert_column_agrees_with_events(session: Session, participant_id: str, at: datetime) -> None:
    """Each version's closed_at is its closing event's time; in force by the index is in force
    by the events (what the participant's own list shows as active)."""
    closings = {
        event.consent_id: event.at
        for event in session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.participant_id == participant_id)
            .where(ConsentEvent.kind.in_(CLOSING_EVENTS))
        )
    }
    versions = session.scalars(select(Consent).where(Consent.participant_id == participant_id))
    closed_at = {version.id: version.closed_at for version in versions}
    assert closed_at == {consent_id: closings.get(consent_id) for consent_id in closed_at}
    by_events = [
        view.id
        for view in consents.list_consents(session=session, participant_id=participant_id, at=at)
        if view.status is ConsentStatus.ACTIVE
    ]
    by_index = consents.consents_in_force(session=session, participant_id=participant_id, at=at)
    assert [consent.id for consent in by_index] == by_events


grants = st.tuples(
    st.just("grant"),
    st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True),
    st.none() | st.integers(min_value=1, max_value=3 * 86_400),  # starts that many s later
    st.none() | st.integers(min_value=1, max_value=5 * 86_400),  # ends that many s after start
)
amendments = st.tuples(
    st.just("amend"),
    st.integers(min_value=0, max_value=50),  # which version, of all the participant's
    st.none() | st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True),
    st.none() | st.integers(min_value=1, max_value=5 * 86_400),
)
revocations = st.tuples(st.just("revoke"), st.integers(min_value=0, max_value=50))
waits = st.tuples(st.just("wait"), st.integers(min_value=0, max_value=2 * 86_400))
histories = st.lists(st.one_of(grants, amendments, revocations, waits), min_size=1, max_size=20)


@settings(
    max_examples=40,
    deadline=None,
    # One database for all examples: each example has a participant of its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories)
def test_closed_at_and_the_events_never_disagree(
    sessions: sessionmaker[Session], keys: IdentityKeys, history: list[tuple[object, ...]]
) -> None:
    clock = SettableClock()
    bsn = fresh_bsn()
    with transaction(sessions) as session:
        participant = enrol(session=session, keys=keys, bsn=bsn, domains={"uwv"}, now=clock()).id
    made: list[str] = []
    for step in history:
        clock.advance(1)
        try:
            with transaction(sessions) as session:
                _apply(session, participant, step, made, clock)
        except (ConsentClosed, InvalidConsent):
            pass  # a closed or expired version, or an empty period: refused, nothing written
        with transaction(sessions) as session:
            assert_column_agrees_with_events(session, participant, clock())
            case = read_case(session, keys, UWV, SubjectRef(bsn=bsn), clock())
            in_force = consents.consents_in_force(
                session=session, participant_id=participant, at=clock()
            )
            assert [grant.id for grant in case.grants] == [consent.id for consent in in_force]


def _apply(
    session: Session,
    participant: str,
    step: tuple[object, ...],
    made: list[str],
    clock: SettableClock,
) -> None:
    match step:
        case ("grant", list(categories), starts, lasts):
            start = clock() + timedelta(seconds=starts) if isinstance(starts, int) else None
            end = (start or clock()) + timedelta(seconds=lasts) if isinstance(lasts, int) else None
            terms = ConsentTerms(grantee="uwv", purpose="reintegration", categories=categories,
                                 valid_from=start, valid_until=end)  # fmt: skip
            given = consents.grant(session=session, participant_id=participant, terms=terms,
                                   how=BY_PARTICIPANT, grantee_kind="domain",
                                   vocabulary=VOCABULARY, clock=clock)  # fmt: skip
            made.append(given.id)
        case ("amend", int(which), categories, lasts) if made:
            amendment = ConsentAmendment.model_validate(
                {"categories": categories} if lasts is None else
                {"categories": categories, "valid_until": clock() + timedelta(seconds=int(lasts))}
            )  # fmt: skip
            successor = consents.amend(
                session=session, participant_id=participant, consent_id=made[which % len(made)],
                amendment=amendment, actor="participant", vocabulary=VOCABULARY, clock=clock,
            )  # fmt: skip
            made.append(successor.id)
        case ("revoke", int(which)) if made:
            consents.revoke(session=session, participant_id=participant,
                            consent_id=made[which % len(made)], reason=None,
                            actor="participant", clock=clock)  # fmt: skip
        case ("wait", int(seconds)):
            clock.advance(seconds)


def test_the_migration_fills_closed_at_from_the_events(engine: Engine) -> None:
    """Versions closed before consent_0002 get their closing event's time; open ones none."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "consent_0001")
    clock = SettableClock()
    participant = str(uuid.uuid4())
    superseded, revoked, open_one = (str(uuid.uuid4()) for _ in range(3))
    events = [(superseded, "granted"), (superseded, "superseded"), (revoked, "amended"),
              (revoked, "revoked"), (open_one, "granted")]  # fmt: skip
    with engine.begin() as connection:
        for version, consent_id in enumerate((superseded, revoked, open_one), start=1):
            connection.execute(insert(Consent.__table__).values(  # the columns of consent_0001
                id=consent_id, participant_id=participant, grantee="uwv", grantee_kind="domain",
                purpose="reintegration", categories=["care.involvement"], valid_from=clock(),
                valid_until=None, given_by="participant", representative_role=None,
                evidence_ref=None, recorded_by="participant", version=version,
                supersedes=None, created_at=clock(),
            ))  # fmt: skip
        for consent_id, kind in events:
            clock.advance(60)
            connection.execute(insert(ConsentEvent.__table__).values(
                consent_id=consent_id, participant_id=participant, kind=kind, at=clock(),
                actor="participant", reason=None, related_consent_id=None, details=None,
            ))  # fmt: skip
    upgrade_to_head(engine)
    with transaction(make_sessionmaker(engine)) as session:
        closed = {c.id: c.closed_at for c in session.scalars(select(Consent))}
        assert_column_agrees_with_events(session, participant, clock())
        in_force = consents.consents_in_force(session=session, participant_id=participant,
                                              at=clock())  # fmt: skip
    start = SettableClock().now
    assert closed == {
        superseded: start + timedelta(minutes=2),
        revoked: start + timedelta(minutes=4),
        open_one: None,
    }
    assert [consent.id for consent in in_force] == [open_one]

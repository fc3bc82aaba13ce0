"""The disclosure's one read of the case agrees with the participant, consents and director
read one by one, through a participant's history of consents and directors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from consent import service as consents
from consent.schemas import ConsentAmendment, ConsentTerms, GivenBy, GivenHow, Vocabulary
from gateway.auth.access_tokens import Caller
from gateway.core.db import make_engine, make_sessionmaker, transaction
from gateway.disclosures.case import UNKNOWN, read_case
from gateway.identity.keys import IdentityKeys, load_identity_keys
from gateway.identity.subjects import SubjectRef, resolve_subject
from gateway.identity.vault import enrol, pseudonym
from gateway.migrations.runner import upgrade_to_head
from plan import service as plan
from tests.disclosures.world import NOOR, SAM
from tests.disclosures.world import UNKNOWN as UNKNOWN_BSN
from tests.support import SettableClock

VOCABULARY = Vocabulary(
    purposes={
        "reintegration": frozenset({"care.involvement", "income.benefit", "work.capacity"}),
        "case-coordination": frozenset({"care.involvement"}),
    },
    domains=frozenset({"uwv", "ggz", "gemeente"}),
)
UWV = Caller(party="uwv-leiden", domain="uwv", roles=("uwv",), purposes=("reintegration",),
             token_id="t-uwv")  # fmt: skip
GGZ = Caller(party="ggz-leiden", domain="ggz", roles=("ggz",), purposes=("reintegration",),
             token_id="t-ggz")  # fmt: skip
BY_PARTICIPANT = GivenHow(given_by=GivenBy.PARTICIPANT, recorded_by="participant")


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def keys(tmp_path: Path) -> IdentityKeys:
    return load_identity_keys(tmp_path / "identity-keys.json", create=True)


def _one_by_one(
    session: Session, keys: IdentityKeys, caller: Caller, subject: SubjectRef, clock: SettableClock
) -> tuple[str | None, list[tuple[Any, ...]], str | None]:
    participant = resolve_subject(session, keys, caller, subject)
    if participant is None:
        return None, [], None
    at = clock()
    grants = consents.consents_in_force(session=session, participant_id=participant.id, at=at)
    director = plan.current_director(session=session, participant_id=participant.id,
                                     consents=grants)  # fmt: skip
    return (
        participant.id,
        [(g.id, g.grantee, g.purpose, list(g.categories)) for g in grants],
        None if director is None else director.party,
    )


def _in_one(
    session: Session, keys: IdentityKeys, caller: Caller, subject: SubjectRef, clock: SettableClock
) -> tuple[str | None, list[tuple[Any, ...]], str | None]:
    case = read_case(session, keys, caller, subject, clock())
    if case is UNKNOWN:
        return None, [], None
    assert case.participant is not None
    return case.participant.id, [tuple(g) for g in case.grants], case.director_party


def test_the_case_read_in_one_statement_is_the_case_read_one_by_one(
    sessions: sessionmaker[Session], keys: IdentityKeys
) -> None:
    clock = SettableClock()
    ids: dict[str, str] = {}
    compared: list[tuple[str | None, int, str | None]] = []

    def compare() -> None:
        """Now and a little later, by BSN and by pseudonym, for the caller and another domain."""
        subjects = [(UWV, SubjectRef(bsn=bsn)) for bsn in (SAM, NOOR, UNKNOWN_BSN)]
        subjects += [
            (caller, SubjectRef(pseudonym=pseudonym(keys, "uwv", ids[SAM])))
            for caller in (UWV, GGZ)  # a pseudonym names no one in another domain
            if SAM in ids
        ]
        for later in (0, 90, 600):
            clock.advance(later)
            with transaction(sessions) as session:
                for caller, subject in subjects:
                    expected = _one_by_one(session, keys, caller, subject, clock)
                    assert _in_one(session, keys, caller, subject, clock) == expected
                    compared.append((expected[0], len(expected[1]), expected[2]))
            clock.advance(-later)

    def step(change: Callable[[Session], object]) -> None:
        clock.advance(60)
        with transaction(sessions) as session:
            change(session)
        compare()

    def give(session: Session, bsn: str, **terms: Any) -> str:
        given = consents.grant(
            session=session, participant_id=ids[bsn], terms=ConsentTerms(**terms),
            how=BY_PARTICIPANT, grantee_kind="party", vocabulary=VOCABULARY, clock=clock,
        )  # fmt: skip
        return given.id

    def director(session: Session, party: str, domain: str, by: str, consent: str | None) -> None:
        current = plan.current_director(
            session=session, participant_id=ids[SAM],
            consents=consents.consents_in_force(session=session, participant_id=ids[SAM],
                                                at=clock()),
        )  # fmt: skip
        plan.assign_director(
            session=session, participant_id=ids[SAM], party=party, domain=domain,
            assigned_by=by, consent_id=consent, current=current, clock=clock,
        )  # fmt: skip

    def enrol_both(session: Session) -> None:
        for bsn in (SAM, NOOR):
            ids[bsn] = enrol(session=session, keys=keys, bsn=bsn,
                             domains={"uwv", "ggz", "gemeente"}, now=clock()).id  # fmt: skip

    made: dict[str, str] = {}
    compare()  # nobody enrolled yet
    step(enrol_both)
    step(lambda s: made.setdefault("open", give(s, SAM, grantee="uwv", purpose="reintegration",
                                                categories=["care.involvement"])))  # fmt: skip
    step(lambda s: give(s, NOOR, grantee="uwv-leiden", purpose="reintegration",
                        categories=["work.capacity"]))  # fmt: skip
    step(lambda s: give(s, SAM, grantee="uwv-leiden", purpose="reintegration",
                        categories=["income.benefit"], valid_until=clock() + timedelta(seconds=80)))  # fmt: skip
    step(lambda s: give(s, SAM, grantee="ggz-leiden", purpose="case-coordination",
                        categories=["care.involvement"], valid_from=clock() + timedelta(seconds=300)))  # fmt: skip
    step(lambda s: made.setdefault("coordination", give(
        s, SAM, grantee="ggz-leiden", purpose="case-coordination", categories=["care.involvement"])))  # fmt: skip
    step(lambda s: director(s, "ggz-leiden", "ggz", "ggz-leiden", made["coordination"]))
    step(lambda s: consents.amend(
        session=s, participant_id=ids[SAM], consent_id=made["open"], actor="participant",
        amendment=ConsentAmendment(categories=["care.involvement"],
                                   valid_until=clock() + timedelta(days=30)),
        vocabulary=VOCABULARY, clock=clock))  # fmt: skip
    step(lambda s: consents.revoke(session=s, participant_id=ids[SAM],
                                   consent_id=made["coordination"], reason=None,
                                   actor="participant", clock=clock))  # fmt: skip
    step(lambda s: director(s, "gemeente-leiden", "gemeente", "participant", None))
    step(lambda s: plan.end_director(
        session=s, participant_id=ids[SAM], ended_by="participant",
        current=plan.current_director(session=s, participant_id=ids[SAM], consents=[]),
        clock=clock))  # fmt: skip

    # The history went through every kind of case the one read must tell apart.
    assert (None, 0, None) in compared  # unknown
    assert any(found and grants >= 3 for found, grants, _ in compared)  # several in force
    assert any(found and grants and party is None for found, grants, party in compared)
    assert {party for _, _, party in compared} >= {"ggz-leiden", "gemeente-leiden", None}

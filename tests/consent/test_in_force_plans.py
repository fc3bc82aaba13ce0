"""The consents in force are found through the index of open versions, on both databases.

A participant with a long history (hundreds of versions, each amendment closing one) must cost
a disclosure no more than one with a single version: the case read and ``consents_in_force``
read the open versions by ``(participant_id, closed_at IS NULL)`` and never the events. The
plans are read as the gateway meets them: SQLite without statistics (the gateway never runs
ANALYZE) and after ANALYZE; PostgreSQL after ANALYZE (autovacuum's work on a live table), both
the custom plan and the generic one a prepared statement may switch to (psycopg prepares a
statement from its fifth run).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import Engine, Select, insert, text
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from sqlalchemy.orm import Session

from consent import service as consents
from consent.models import Consent, ConsentEvent
from consent.schemas import ConsentAmendment, ConsentTerms
from gateway.core.db import make_engine, make_sessionmaker, transaction
from gateway.disclosures.case import _CASES, read_case
from gateway.identity.keys import IdentityKeys, load_identity_keys
from gateway.identity.subjects import SubjectRef, subject_query
from gateway.identity.vault import enrol, pseudonym
from gateway.migrations.runner import upgrade_to_head
from tests.consent.helpers import BY_PARTICIPANT, UWV, VOCABULARY, fresh_bsn
from tests.support import SettableClock

INDEX = "ix_consents_participant_id_closed_at"
VERSIONS = 300  # the heavy participant's: enough that reading them all would show in a plan
OTHERS = 3000  # participants with one version each: a table where a scan of it costs more


@pytest.fixture
def keys(tmp_path: Path) -> IdentityKeys:
    return load_identity_keys(tmp_path / "identity-keys.json", create=True)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def heavy(engine: Engine, keys: IdentityKeys) -> tuple[str, str, datetime]:
    """A participant with VERSIONS versions of one consent (the last open) and a revoked one,
    among OTHERS participants with one version each: their BSN, id and the moment after."""
    sessions = make_sessionmaker(engine)
    clock = SettableClock()
    bsn = fresh_bsn()
    with transaction(sessions) as session:
        participant = enrol(session=session, keys=keys, bsn=bsn, domains={"uwv"}, now=clock()).id
        revoked = _grant(session, participant, clock)
        consents.revoke(session=session, participant_id=participant, consent_id=revoked.id,
                        reason=None, actor="participant", clock=clock)  # fmt: skip
        current = _grant(session, participant, clock)
        for _ in range(VERSIONS - 1):
            clock.advance(1)
            current = consents.amend(
                session=session, participant_id=participant, consent_id=current.id,
                amendment=ConsentAmendment(categories=["care.involvement"]),
                actor="participant", vocabulary=VOCABULARY, clock=clock,
            )  # fmt: skip
        _others_with_one_version(session, clock())
    return bsn, participant, clock()


def _others_with_one_version(session: Session, now: datetime) -> None:
    """OTHERS participants' open versions and their events, as grant writes them, in bulk."""
    rows = [
        {"id": str(uuid.uuid4()), "participant_id": str(uuid.uuid4()), "grantee": "uwv",
         "grantee_kind": "domain", "purpose": "reintegration", "categories": ["care.involvement"],
         "valid_from": now, "valid_until": None, "given_by": "participant",
         "representative_role": None, "evidence_ref": None, "recorded_by": "participant",
         "version": 1, "supersedes": None, "created_at": now, "closed_at": None}
        for _ in range(OTHERS)
    ]  # fmt: skip
    session.execute(insert(Consent), rows)
    session.execute(insert(ConsentEvent), [
        {"consent_id": row["id"], "participant_id": row["participant_id"], "kind": "granted",
         "at": now, "actor": "participant", "reason": None, "related_consent_id": None,
         "details": None}
        for row in rows
    ])  # fmt: skip


def _grant(session: Session, participant: str, clock: SettableClock) -> Any:
    terms = ConsentTerms(grantee="uwv", purpose="reintegration", categories=["care.involvement"])
    return consents.grant(session=session, participant_id=participant, terms=terms,
                          how=BY_PARTICIPANT, grantee_kind="domain", vocabulary=VOCABULARY,
                          clock=clock)  # fmt: skip


def test_the_case_read_finds_open_versions_by_the_index_and_reads_no_events(
    engine: Engine, keys: IdentityKeys, heavy: tuple[str, str, datetime]
) -> None:
    bsn, participant, now = heavy
    for subject in (SubjectRef(bsn=bsn), SubjectRef(pseudonym=pseudonym(keys, "uwv", participant))):
        query = subject_query(keys, UWV, subject)
        for plan in plans_as_met(engine, _CASES[query.statement], {**query.parameters, "at": now}):
            assert_open_versions_by_index(plan)
    with transaction(make_sessionmaker(engine)) as session:  # and it is the right answer
        case = read_case(session, keys, UWV, SubjectRef(bsn=bsn), now)
    assert len(case.grants) == 1


def test_consents_in_force_finds_open_versions_by_the_index_and_reads_no_events(
    engine: Engine, heavy: tuple[str, str, datetime]
) -> None:
    _, participant, now = heavy
    parameters = {"participant_id": participant, "at": now}
    for plan in plans_as_met(engine, consents._IN_FORCE, parameters):
        assert_open_versions_by_index(plan)
    with transaction(make_sessionmaker(engine)) as session:
        found = consents.consents_in_force(session=session, participant_id=participant, at=now)
    assert [consent.version for consent in found] == [VERSIONS]


def assert_open_versions_by_index(plan: Plan) -> None:
    """No scan of consent_events, and consents read only by both columns of the index."""
    assert "consent_events" not in plan.text, plan.text
    assert plan.consents_access, plan.text
    for index, condition in plan.consents_access:
        assert index == INDEX, plan.text
        assert "participant_id" in condition, plan.text
        assert "closed_at" in condition, plan.text


@dataclass(frozen=True)
class Plan:
    """A query plan as text, with how each access to ``consents`` found its rows: the index
    used (None for a scan) and its condition."""

    text: str
    consents_access: list[tuple[str | None, str]]


def plans_as_met(
    engine: Engine, statement: Select[Any], parameters: Mapping[str, Any]
) -> list[Plan]:
    """SQLite's EXPLAIN QUERY PLAN before and after ANALYZE; PostgreSQL's custom and generic
    plans of the prepared statement, after ANALYZE."""
    if engine.dialect.name == "sqlite":
        plans = [_sqlite_plan(engine, statement, parameters)]
        _analyse(engine)
        return [*plans, _sqlite_plan(engine, statement, parameters)]
    _analyse(engine)
    return _postgresql_plans(engine, statement, parameters)


def _analyse(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def _sqlite_plan(engine: Engine, statement: Select[Any], parameters: Mapping[str, Any]) -> Plan:
    sql_text, arguments = _compiled(engine.dialect, statement, parameters)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql_text}", tuple(arguments))
        lines = [str(row[3]) for row in rows]
    access = []
    for line in lines:
        if line.startswith("SCAN consents"):
            access.append((None, line))
        elif line.startswith("SEARCH consents USING"):
            # e.g. SEARCH consents USING INDEX ix_… (participant_id=? AND closed_at=?) LEFT-JOIN
            index = line.split(" INDEX ", 1)[1].split(" ", 1)[0] if " INDEX " in line else None
            access.append((index, line.partition("(")[2]))
    return Plan("\n".join(lines), access)


def _postgresql_plans(
    engine: Engine, statement: Select[Any], parameters: Mapping[str, Any]
) -> list[Plan]:
    numbered = pg_psycopg.dialect(paramstyle="numeric_dollar")  # $1, $2: for PREPARE
    sql_text, arguments = _compiled(numbered, statement, parameters)
    plans = []
    with engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(f"PREPARE read_under_test AS {sql_text}")
        execute = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE read_under_test({})").format(
            sql.SQL(", ").join(sql.Literal(argument) for argument in arguments)
        )
        for mode in ("force_custom_plan", "force_generic_plan"):
            cursor.execute(f"SET plan_cache_mode = {mode}")
            cursor.execute(execute)
            plans.append(_postgresql_plan(cursor.fetchone()[0][0]["Plan"]))
        cursor.execute("DEALLOCATE read_under_test")
        cursor.execute("RESET plan_cache_mode")
        connection.rollback()
    return plans


def _postgresql_plan(root: dict[str, Any]) -> Plan:
    access: list[tuple[str | None, str]] = []

    def visit(node: dict[str, Any]) -> None:
        if node.get("Relation Name") == "consents":
            if node["Node Type"] == "Bitmap Heap Scan":
                for child in node["Plans"]:
                    access.append((child.get("Index Name"), child.get("Index Cond", "")))
            else:
                access.append((node.get("Index Name"), node.get("Index Cond", "")))
        for child in node.get("Plans", []):
            visit(child)

    visit(root)
    return Plan(json.dumps(root, indent=1), access)


def _compiled(
    dialect: Any, statement: Select[Any], parameters: Mapping[str, Any]
) -> tuple[str, list[Any]]:
    """The SQL the driver gets and its arguments in placeholder order, through the same type
    processors SQLAlchemy applies (UTC timestamps as SQLite stores them, for example)."""
    compiled = statement.compile(dialect=dialect)
    values = compiled.construct_params(dict(parameters))
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None and name in values:
            values[name] = process(values[name])
    assert compiled.positiontup is not None
    return compiled.string, [values[name] for name in compiled.positiontup]

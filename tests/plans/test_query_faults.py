"""The plan query goes through the one disclosure flow: a failing database is a 503 with nothing
disclosed, never a 500, and a refusal stays on record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from gateway.settings import Settings
from tests.disclosures.world import SAM, World
from tests.plans.helpers import (
    GEMEENTE,
    add_action,
    coordinate,
    headers,
    plan_world,
    query_plan,
    signal,
)


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with plan_world(settings) as world:
        for party in ("ggz-leiden", GEMEENTE):
            assert signal(world, party, SAM).status_code == 201
        assert coordinate(world, SAM).status_code == 201
        assert add_action(world, GEMEENTE, SAM, "Intake with the job coach").status_code == 201
        yield world


def _query_while_failing(world: World, statement_start: str) -> Any:
    """The plan query as GGZ, with every statement that starts so failing (the token first)."""
    ggz = headers(world, "ggz-leiden")
    body = {"subject": {"bsn": SAM}, "purpose": "case-coordination"}
    restore = _failing(world, statement_start)
    try:
        return world.client.post("/v1/plans/query", json=body, headers=ggz)
    finally:
        restore()


def _failing(world: World, statement_start: str) -> Any:
    engine = world.runtime.sessions.kw["bind"]

    def broken(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(statement_start):
            raise RuntimeError("the database went away")

    event.listen(engine, "before_cursor_execute", broken)
    return lambda: event.remove(engine, "before_cursor_execute", broken)


def test_plan_query_answers_503_when_the_database_fails_while_reading(world: World) -> None:
    assert query_plan(world, "ggz-leiden", SAM, "case-coordination").status_code == 200
    response = _query_while_failing(world, "SELECT")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Intake" not in response.text


def test_plan_query_answers_503_when_its_audit_entry_cannot_be_written(world: World) -> None:
    before = len(world.audit_entries())
    response = _query_while_failing(world, "INSERT INTO AUDIT_ENTRIES")
    assert response.status_code == 503, response.text
    assert "Intake" not in response.text
    assert [e.action for e in world.audit_entries()[before:]] == []


def test_plan_query_outside_the_token_scope_is_refused_on_record(world: World) -> None:
    before = len(world.audit_entries())
    response = query_plan(world, "ggz-leiden", SAM, "income-support")
    assert response.status_code == 403, response.text
    refused = world.audit_entries()[before:]
    assert [(e.action, e.outcome) for e in refused] == [("deny", "deny")]
    assert refused[0].reason is not None and refused[0].reason.startswith("scope:")

"""The demo story end to end over real HTTP: SQLite and PostgreSQL, embedded engine and OPA."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from audit.verify_stored import verify_database
from gateway.core.db import transaction
from gateway.demo.seed import seed_demo, seed_demo_participants
from gateway.demo.story import Story
from gateway.settings import PolicyEngineKind, Settings
from tests.support import free_port, serving


@pytest.mark.parametrize("engine", [PolicyEngineKind.EMBEDDED, PolicyEngineKind.OPA])
def test_story_from_contribution_to_withdrawal_to_access_log(
    engine: PolicyEngineKind, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        database_url=database_url,
        public_url=f"http://127.0.0.1:{port}",
        port=port,
        demo_login=True,
        policy_engine=engine,
        opa_url=request.getfixturevalue("opa_url")
        if engine is PolicyEngineKind.OPA
        else "http://127.0.0.1:9",
    )
    with serving(settings) as runtime:
        with transaction(runtime.sessions) as session:
            seed_demo(
                session=session,
                catalogue=runtime.catalogue,
                clock=runtime.clock,
                folder=settings.data_dir / "demo",
            )
            seed_demo_participants(
                session=session,
                keys=runtime.identity_keys,
                catalogue=runtime.catalogue,
                clock=runtime.clock,
            )
        lines: list[str] = []
        with httpx.Client(base_url=settings.public_url, timeout=10) as client:
            Story(client, settings.data_dir / "demo", lines.append).run()
        story = "\n".join(lines)
        with transaction(runtime.sessions) as session:
            report = verify_database(session=session, jwks=runtime.audit_keys.jwks)
    assert "care.diagnosis (never-disclosable)" in story
    assert "income.benefit.omschrijving (outside-catalogue) at #/results/0/omschrijving" in story
    assert "disclosed care.work_readiness" in _step(story, 5)
    assert "delete care.work_readiness received in decision" in _step(story, 7)
    assert "withheld  care.work_readiness: consent.missing" in _step(story, 8)
    assert "was asked to delete care.work_readiness: deleted at" in _step(story, 9)
    assert "withheld  work.capacity" in story
    assert "999900006" not in story
    assert (
        "UWV Leiden (demo) received care.involvement, care.work_readiness, income.benefit" in story
    )
    assert '"benefit_type": "WIA"' in story and '"benefit_type": "Participatiewet"' in story
    assert report.ok, report.summary()


def _step(story: str, number: int) -> str:
    """The lines the story printed for one numbered step (timestamps hold digits and dots too)."""
    return story.split(f"\n{number}. ", 1)[1].split(f"\n{number + 1}. ", 1)[0]

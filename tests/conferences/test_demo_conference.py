"""`schakel demo conference` against a served gateway over real HTTP: every step printed, the
invited party's read inside the window succeeds and the same read after it is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit.verify_database import verify_database
from gateway.cli.main import app
from gateway.core.db import transaction
from gateway.demo.seed import seed_demo, seed_demo_participants
from gateway.registry.service import find_party
from gateway.settings import PolicyEngineKind, Settings
from tests.support import SettableClock, free_port, new_partner, register, running_gateway, serving

STEP = re.compile(r"^[0-9]{1,2}\. ")


def test_demo_conference_plays_a_whole_conference(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    port = free_port()
    on_opa = not database_url.startswith("sqlite")  # PostgreSQL with OPA, SQLite embedded
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        database_url=database_url,
        public_url=f"http://127.0.0.1:{port}",
        port=port,
        demo_login=True,
        policy_engine=PolicyEngineKind.OPA if on_opa else PolicyEngineKind.EMBEDDED,
        opa_url=request.getfixturevalue("opa_url") if on_opa else "http://127.0.0.1:9",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(settings.data_dir))
    with serving(settings) as runtime:
        with transaction(runtime.sessions) as session:
            seed_demo(session=session, catalogue=runtime.catalogue, clock=runtime.clock,
                      folder=settings.data_dir / "demo")  # fmt: skip
            seed_demo_participants(session=session, keys=runtime.identity_keys,
                                   catalogue=runtime.catalogue, clock=runtime.clock)  # fmt: skip
        result = CliRunner().invoke(
            app, ["demo", "conference", "--url", settings.public_url, "--window-seconds", "8"]
        )
        with transaction(runtime.sessions) as session:
            report = verify_database(session=session, jwks=runtime.audit_keys.jwks)
    # The served gateway logs into the same output: the story is what is not a log line.
    story = "\n".join(line for line in result.output.splitlines() if "[info" not in line)
    assert result.exit_code == 0, story
    steps = [line.split(".")[0] for line in story.splitlines() if STEP.match(line)]
    assert steps == [str(number) for number in range(1, 15)]
    inside, after = story.split("12. ", 1)
    assert "case 1 is " in inside and "disclosed care.involvement" in inside
    assert "withheld care.involvement: category.care_data_barred" in inside
    assert "HTTP 403 category.care_data_barred" in inside
    assert "HTTP 403 conference.not_invited" in inside
    assert "case 2: anonymous" in inside and "case 3: anonymous" in inside
    assert "Sam's plan: Workplace visit with the job coach (owner werkgever-leiden)" in inside
    assert "HTTP 403 conference.closed" in after
    assert "debts              suppressed" in after
    assert "999900006" not in story
    assert report.ok, report.summary()


def test_a_demo_party_seeded_before_gains_its_conference_purpose(settings: Settings) -> None:
    folder = settings.data_dir / "demo"
    with running_gateway(settings, SettableClock()) as (runtime, _client):
        older = new_partner("uwv-leiden", "uwv", roles=("reintegration-advisor",))
        register(runtime, older)
        with transaction(runtime.sessions) as session:
            seed_demo(session=session, catalogue=runtime.catalogue, clock=runtime.clock,
                      folder=folder)  # fmt: skip
        with transaction(runtime.sessions) as session:
            party = find_party(session, "uwv-leiden")
            assert party is not None
            assert party.purposes == ["case-conference", "case-coordination", "reintegration"]

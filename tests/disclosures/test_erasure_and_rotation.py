"""Crypto-shredding and KEK rotation, through the `schakel` command against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit.checkpoint import latest_checkpoint
from audit.service import head
from gateway.cli.main import app
from gateway.core.db import transaction
from gateway.settings import Settings
from gateway.storage.kek import new_kek_text
from tests.disclosures.world import NOOR, SAM, running_world

runner = CliRunner()


def _cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, **extra: str) -> None:
    monkeypatch.setenv("SCHAKEL_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(settings.data_dir))
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def test_erasure_makes_every_contribution_unreadable_and_keeps_the_audit_trail(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_world(settings) as world:
        world.contribute(SAM, "care.involvement")
        world.contribute(SAM, "income.benefit")
        world.consent(SAM, "uwv", "reintegration", ["care.involvement", "income.benefit"])
        before = world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"]).json()
        assert before["disclosed"]

        _cli_env(monkeypatch, settings)
        refused = runner.invoke(app, ["participant", "erase", "--bsn", SAM])
        assert refused.exit_code == 2 and "--yes" in refused.output
        erased = runner.invoke(app, ["participant", "erase", "--bsn", SAM, "--yes"])
        assert erased.exit_code == 0, erased.output

        after = world.disclose(
            "uwv-leiden", SAM, "reintegration", ["care.involvement", "income.benefit"]
        )
        assert after.status_code == 200
        assert after.json()["disclosed"] == []
        assert {item["code"] for item in after.json()["withheld"]} == {"data.none"}
        assert "participant.erase" in [entry.action for entry in world.audit_entries()]

        verified = runner.invoke(app, ["audit", "verify"])
        assert verified.exit_code == 0, verified.output


def test_erasure_from_the_command_line_follows_the_checkpoint_rule(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_world(settings) as world:
        world.contribute(SAM, "care.involvement")
        _cli_env(monkeypatch, settings, SCHAKEL_AUDIT_CHECKPOINT_EVERY_ENTRIES="1")
        erased = runner.invoke(app, ["participant", "erase", "--bsn", SAM, "--yes"])
        assert erased.exit_code == 0, erased.output
        with transaction(world.runtime.sessions) as session:
            newest = latest_checkpoint(session)
            erasure = head(session)
        assert erasure is not None and erasure.action == "participant.erase"
        assert newest is not None and newest.seq == erasure.seq


def test_kek_rotation_rewraps_every_key_while_gateways_keep_serving(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old, new = tmp_path / "old.kek", tmp_path / "new.kek"
    old.write_text(new_kek_text())
    new.write_text(new_kek_text())
    with running_world(settings.model_copy(update={"kek_file": old})) as world:
        world.contribute(SAM, "care.involvement")
        world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
        partners = world.partners
    during = settings.model_copy(update={"kek_file": new, "previous_kek_file": old})
    with running_world(during, partners) as world:
        assert world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"]).json()[
            "disclosed"
        ]
        _cli_env(monkeypatch, settings)
        rotated = runner.invoke(
            app, ["keys", "rotate-kek", "--old", str(old), "--new", str(new), "--batch", "1"]
        )
        assert rotated.exit_code == 0, rotated.output
        assert "re-wrapped 1 data keys" in rotated.output
        assert world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"]).json()[
            "disclosed"
        ]
    with running_world(settings.model_copy(update={"kek_file": new}), partners) as world:
        served = world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"]).json()
        assert served["disclosed"], "data keys must open with the new KEK alone"


def test_retention_erases_only_idle_participants_without_consent(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    with running_world(settings) as world:
        world.clock.now -= timedelta(days=3 * 365)
        world.contribute(SAM, "care.involvement")
        world.contribute(NOOR, "care.involvement")
        world.consent(NOOR, "uwv", "reintegration", ["care.involvement"])
        world.clock.now += timedelta(days=3 * 365)

        _cli_env(monkeypatch, settings)
        assert "nothing expires" in runner.invoke(app, ["retention", "run"]).output
        monkeypatch.setenv("SCHAKEL_RETENTION_YEARS", "2")
        dry = runner.invoke(app, ["retention", "run", "--dry-run"])
        assert "1 participant(s) due for erasure" in dry.output, dry.output
        done = runner.invoke(app, ["retention", "run"])
        assert "1 participant(s) erased" in done.output, done.output
        assert world.audit_entries()[-1].action == "participant.erase"

        world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
        for bsn, expected in ((SAM, []), (NOOR, ["care.involvement"])):
            view = world.disclose("uwv-leiden", bsn, "reintegration", ["care.involvement"]).json()
            assert [item["category"] for item in view["disclosed"]] == expected

"""`schakel audit prove | check-proof | consistency | check-consistency`: an operator proves
what the log holds, an auditor checks it offline with the published keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit.append import append_entry
from gateway.cli.main import app
from gateway.core.db import make_engine, make_sessionmaker, transaction
from gateway.migrations.runner import upgrade_to_head
from tests.audit.conftest import draft
from tests.support import SettableClock

runner = CliRunner()


def _append(database_url: str, count: int) -> None:
    engine = make_engine(database_url)
    with transaction(make_sessionmaker(engine)) as session:
        for _ in range(count):
            append_entry(session=session, draft=draft(), clock=SettableClock())
    engine.dispose()


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHAKEL_DATABASE_URL", database_url)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SCHAKEL_AUDIT_LOG_ORIGIN", "cli.schakel.example/audit")
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    engine.dispose()
    _append(database_url, 5)
    return database_url


def _jwks(path: Path) -> None:
    from gateway.runtime import load_audit_keys
    from gateway.settings import load_settings

    path.write_text(json.dumps(load_audit_keys(load_settings()).jwks))


def test_prove_an_entry_and_check_the_proof_offline(operator: str, tmp_path: Path) -> None:
    proved = runner.invoke(app, ["audit", "prove", "--seq", "3", "--out", "entry3.json"])
    assert proved.exit_code == 0, proved.output  # signs the checkpoint it needs
    _jwks(tmp_path / "jwks.json")
    checked = runner.invoke(app, ["audit", "check-proof", "entry3.json", "--keys", "jwks.json"])
    assert checked.exit_code == 0, checked.output
    assert "OK: entry 3 in the tree of 5 entries" in checked.output
    as_text = runner.invoke(app, ["audit", "prove", "--seq", "3", "--tlog-proof", "--out", "3.txt"])
    assert as_text.exit_code == 0
    assert (
        runner.invoke(app, ["audit", "check-proof", "3.txt", "--keys", "jwks.json"]).exit_code == 0
    )

    bundle = json.loads((tmp_path / "entry3.json").read_text())
    bundle["entry"]["reason"] = "rewritten"
    (tmp_path / "forged.json").write_text(json.dumps(bundle))
    forged = runner.invoke(app, ["audit", "check-proof", "forged.json", "--keys", "jwks.json"])
    assert forged.exit_code == 1
    assert "FAILED" in forged.output and "entry_hash" in forged.output
    other = runner.invoke(
        app, ["audit", "check-proof", "entry3.json", "--keys", "jwks.json", "--origin", "x/y"]
    )
    assert other.exit_code == 1 and "another log" in other.output


def test_prove_that_todays_checkpoint_extends_yesterdays(operator: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["audit", "checkpoint"]).exit_code == 0
    kept = runner.invoke(app, ["audit", "prove", "--seq", "5"])
    (tmp_path / "yesterday.note").write_text(json.loads(kept.output)["checkpoint"])
    _append(operator, 4)
    assert runner.invoke(app, ["audit", "checkpoint"]).exit_code == 0
    proved = runner.invoke(
        app, ["audit", "consistency", "--from", "5", "--to", "9", "--out", "c.json"]
    )
    assert proved.exit_code == 0, proved.output
    _jwks(tmp_path / "jwks.json")
    checked = runner.invoke(
        app,
        ["audit", "check-consistency", "c.json", "--keys", "jwks.json", "--kept", "yesterday.note"],
    )
    assert checked.exit_code == 0, checked.output
    assert "the tree of 9 entries extends the tree of 5" in checked.output
    assert runner.invoke(app, ["audit", "consistency", "--from", "4", "--to", "9"]).exit_code == 2

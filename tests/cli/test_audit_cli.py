"""`schakel audit checkpoint | export | verify` as an operator and an auditor use them."""

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
VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "audit"


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    """A migrated database with three entries, and the environment the commands read."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHAKEL_DATABASE_URL", database_url)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with transaction(make_sessionmaker(engine)) as session:
        for _ in range(3):
            append_entry(session=session, draft=draft(), clock=SettableClock())
    engine.dispose()
    return tmp_path


def test_checkpoint_export_and_verify_offline(operator: Path) -> None:
    checkpoint = runner.invoke(app, ["audit", "checkpoint"])
    assert checkpoint.exit_code == 0, checkpoint.output
    assert "checkpoint at seq 3" in checkpoint.output
    assert (operator / "var" / "keys" / "audit-signing.pem").stat().st_mode & 0o077 == 0
    assert runner.invoke(app, ["audit", "export", "--out", "log.ndjson"]).exit_code == 0
    online = runner.invoke(app, ["audit", "verify"])
    assert online.exit_code == 0, online.output
    assert "OK: 3 entries, 1 checkpoints" in online.output

    from gateway.runtime import load_audit_keys
    from gateway.settings import load_settings

    (operator / "jwks.json").write_text(json.dumps(load_audit_keys(load_settings()).jwks))
    offline = runner.invoke(
        app, ["audit", "verify", "--export", "log.ndjson", "--keys", "jwks.json"]
    )
    assert offline.exit_code == 0, offline.output
    assert "signed through seq 3" in offline.output

    lines = (operator / "log.ndjson").read_text().splitlines()
    tampered = json.loads(lines[2])
    tampered["entry"]["subject_ref"] = "ps-someone-else"
    lines[2] = json.dumps(tampered)
    (operator / "tampered.ndjson").write_text("\n".join(lines) + "\n")
    caught = runner.invoke(
        app, ["audit", "verify", "--export", "tampered.ndjson", "--keys", "jwks.json"]
    )
    assert caught.exit_code == 1
    assert "FAILED at seq 2: entry_hash does not match" in caught.output


def test_verify_offline_replays_the_published_vectors() -> None:
    jwks = str(VECTORS / "jwks.json")
    good = runner.invoke(
        app, ["audit", "verify", "--export", str(VECTORS / "valid.ndjson"), "--keys", jwks]
    )
    assert good.exit_code == 0, good.output
    bad = runner.invoke(
        app, ["audit", "verify", "--export", str(VECTORS / "cut-tail.ndjson"), "--keys", jwks]
    )
    assert bad.exit_code == 1
    assert "entries were cut off" in bad.output

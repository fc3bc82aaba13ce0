"""A witness in a process of its own (`schakel witness serve`) cosigns the gateway's checkpoints;
the gateway publishes them with the cosignatures, verification reports who saw which size, a
log cut back below a witnessed size is found, and the witness refuses a forked checkpoint."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from audit.actions import Action
from audit.models import AuditCheckpoint, AuditCosignature, AuditEntry
from audit.note import sign_note
from audit.schemas import AuditDraft, Outcome
from audit.tlog import Checkpoint, add_checkpoint_body
from audit.verify import Trusted
from audit.verify_database import verify_database
from audit.witness import origin_hash
from gateway.audit_log.checkpointer import sign_if_due
from gateway.audit_log.flow import log_view
from gateway.audit_log.witnesses import publish
from gateway.cli.main import app
from gateway.core.db import read_transaction, transaction
from gateway.runtime import Runtime
from gateway.settings import AuditWitness, Settings
from tests.audit.guards import lift_guards
from tests.support import SettableClock, free_port, running_gateway

SCHAKEL = str(Path(sys.executable).parent / "schakel")
WITNESS_NAME = "witness.regio.example/w1"
ORIGIN = "gateway.regio.example/audit"
ENTRY = AuditDraft(
    actor_party="uwv-leiden", actor_domain="uwv", action=Action.DENY, outcome=Outcome.DENY
)


@dataclass
class Region:
    runtime: Runtime
    clock: SettableClock
    witness: AuditWitness
    http: httpx.Client

    def append_and_sign(self, count: int) -> int:
        with transaction(self.runtime.sessions) as session:
            for _ in range(count):
                self.runtime.trail.append(session, ENTRY)
        self.clock.advance(self.runtime.settings.audit_checkpoint_every_seconds + 1)
        signed = sign_if_due(self.runtime.sessions, self.runtime.trail)
        assert signed is not None
        return signed.seq

    def verify(self, *outside: str) -> object:
        trusted = Trusted(origin=ORIGIN, witnesses=[self.witness.verifier], outside=outside)
        with read_transaction(self.runtime.sessions) as session:
            return verify_database(
                session=session, jwks=self.runtime.audit_keys.jwks, trusted=trusted
            )

    def witnessed(self) -> str:
        """The last checkpoint the witness cosigned, as it publishes it (monitoring)."""
        answer = self.http.get(f"{self.witness.url}/{origin_hash(ORIGIN)}/checkpoint")
        assert answer.status_code == 200, answer.text
        return answer.text


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the witness did not start")


@pytest.fixture
def region(settings: Settings, tmp_path: Path) -> Iterator[Region]:
    key = tmp_path / "witness.pem"
    made = CliRunner().invoke(app, ["witness", "init", "--name", WITNESS_NAME, "--key", str(key)])
    assert made.exit_code == 0, made.output
    witness = AuditWitness(url=f"http://127.0.0.1:{free_port()}", vkey=made.output.strip())
    configured = settings.model_copy(
        update={
            "audit_log_origin": ORIGIN,
            "audit_witnesses": [witness],
            "audit_checkpoint_interval_seconds": 0,
        }
    )
    clock = SettableClock()
    with running_gateway(configured, clock) as (runtime, _):
        logs = [arg for vkey in log_view(runtime).vkeys for arg in ("--log", vkey)]
        port = witness.url.rsplit(":", 1)[1]
        process = subprocess.Popen(
            [SCHAKEL, "witness", "serve", "--name", WITNESS_NAME, "--key", str(key),
             *logs, "--state", str(tmp_path / "state"), "--port", port],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            _wait_for(f"{witness.url}/{origin_hash(ORIGIN)}/checkpoint", process)
            with httpx.Client(timeout=10) as http:
                yield Region(runtime, clock, witness, http)
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_the_witness_cosigns_and_the_gateway_publishes_the_cosignature(region: Region) -> None:
    first = region.append_and_sign(3)
    assert publish(region.runtime.sessions, [region.witness], region.http) == 1
    second = region.append_and_sign(4)  # the witness checks a consistency proof from 3
    assert publish(region.runtime.sessions, [region.witness], region.http) == 1
    assert publish(region.runtime.sessions, [region.witness], region.http) == 0  # done already
    with read_transaction(region.runtime.sessions) as session:
        from gateway.audit_log.flow import newest_checkpoint

        latest = newest_checkpoint(session)
    assert (first, second) == (3, 7)
    assert latest.cosigned_by == [WITNESS_NAME]
    assert latest.note is not None and f"\u2014 {WITNESS_NAME} " in latest.note
    report = region.verify()
    assert report.ok and report.witnessed == ((WITNESS_NAME, 7),), report.summary()  # type: ignore[attr-defined]
    assert "witnessed: witness.regio.example/w1 at seq 7" in report.summary()  # type: ignore[attr-defined]


def test_a_log_cut_back_below_a_witnessed_size_is_reported(region: Region) -> None:
    region.append_and_sign(3)
    region.append_and_sign(4)
    publish(region.runtime.sessions, [region.witness], region.http)
    kept = region.witnessed()
    lift_guards(region.runtime.database)  # whoever owns the tables takes the last entries away
    with transaction(region.runtime.sessions) as session:
        session.execute(delete(AuditCosignature))
        session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.seq > 3))
        session.execute(delete(AuditEntry).where(AuditEntry.seq > 5))
    assert region.verify().ok  # what is left agrees with itself  # type: ignore[attr-defined]
    report = region.verify(kept)
    assert not report.ok  # type: ignore[attr-defined]
    assert report.first_bad_seq == 6  # type: ignore[attr-defined]
    assert "witnessed checkpoint" in report.problem and "cut off" in report.problem  # type: ignore[attr-defined]


def test_the_witness_refuses_a_forked_checkpoint(region: Region) -> None:
    region.append_and_sign(5)
    publish(region.runtime.sessions, [region.witness], region.http)
    # A gateway that signs a second tree of the same size (its key, another root): a fork.
    forged = Checkpoint(ORIGIN, 5, b"\x07" * 32)
    note = sign_note(forged.text, ORIGIN, region.runtime.audit_keys.signing_key.private_key)
    answer = region.http.post(
        f"{region.witness.url}/add-checkpoint", content=add_checkpoint_body(5, [], note).encode()
    )
    assert answer.status_code == 422
    assert "forked" in answer.text
    rollback = sign_note(Checkpoint(ORIGIN, 4, b"\x07" * 32).text, ORIGIN,
                         region.runtime.audit_keys.signing_key.private_key)  # fmt: skip
    answer = region.http.post(
        f"{region.witness.url}/add-checkpoint",
        content=add_checkpoint_body(5, [], rollback).encode(),
    )
    assert answer.status_code == 400


def test_verify_asks_the_witnesses_from_the_command_line(
    region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    region.append_and_sign(3)
    publish(region.runtime.sessions, [region.witness], region.http)
    settings = region.runtime.settings
    monkeypatch.setenv("SCHAKEL_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SCHAKEL_AUDIT_LOG_ORIGIN", ORIGIN)
    monkeypatch.setenv(
        "SCHAKEL_AUDIT_WITNESSES",
        f'[{{"url": "{region.witness.url}", "vkey": "{region.witness.vkey}"}}]',
    )
    result = CliRunner().invoke(app, ["audit", "verify", "--ask-witnesses"])
    assert result.exit_code == 0, result.output
    assert f"witnessed: {WITNESS_NAME} at seq 3" in result.output

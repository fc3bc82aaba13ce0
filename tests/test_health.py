"""/readyz tells whether a write commits and the policy engine decides; the gateway fails closed."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from gateway.settings import Settings
from tests.support import SettableClock, running_gateway


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _opa_settings(tmp_path: Path, opa_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url="http://testserver",
        policy_engine="opa",  # type: ignore[arg-type]
        opa_url=opa_url,
    )


def test_ready_on_a_real_opa_server_after_pushing_the_policies(
    tmp_path: Path, opa_url: str
) -> None:
    with running_gateway(_opa_settings(tmp_path, opa_url), SettableClock()) as (runtime, client):
        response = client.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["policy_engine"] == "opa"
        assert response.json()["policy_revision"] == runtime.policy_engine.revision


def test_not_ready_when_the_policy_engine_is_down(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{_closed_port()}"
    with running_gateway(_opa_settings(tmp_path, down), SettableClock()) as (_, client):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "ok"
        assert response.json()["checks"]["policy_engine"] != "ok"


@pytest.mark.parametrize("engine", ["embedded"])
def test_ready_on_the_embedded_engine(settings: Settings, engine: str) -> None:
    with running_gateway(settings, SettableClock()) as (_, client):
        assert client.get("/readyz").json()["policy_engine"] == engine


@contextmanager
def _unwritable(path: Path) -> Iterator[None]:
    """Immutable as root (chattr +i: root ignores file modes), read-only otherwise."""
    as_root = os.geteuid() == 0
    if as_root:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o444)
    try:
        yield
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o644)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_not_ready_while_the_sqlite_file_cannot_be_written(settings: Settings) -> None:
    with running_gateway(settings, SettableClock()) as (_, client):
        assert client.get("/readyz").status_code == 200
        database = Path(settings.effective_database_url.removeprefix("sqlite:///"))
        with _unwritable(database):
            response = client.get("/readyz")
        assert response.status_code == 503, response.text
        assert "cannot write" in response.json()["checks"]["database"]
        assert client.get("/readyz").status_code == 200


def test_not_ready_while_a_write_does_not_commit(settings: Settings) -> None:
    with running_gateway(settings, SettableClock()) as (runtime, client):
        engine = runtime.sessions.kw["bind"]

        def disk_full(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.startswith("UPDATE readiness_probes"):
                raise OperationalError(statement, {}, Exception("database or disk is full"))

        event.listen(engine, "before_cursor_execute", disk_full)
        try:
            response = client.get("/readyz")
        finally:
            event.remove(engine, "before_cursor_execute", disk_full)
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "unreachable, or a write does not commit"

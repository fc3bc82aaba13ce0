"""Fixtures that build real things: SQLite files, throwaway PostgreSQL databases, the real app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway.core.logs import silence_eddsa_name_warning
from gateway.settings import Settings

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_HOWTO = (
    "PostgreSQL tests need SCHAKEL_TEST_POSTGRES_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres, a role that may CREATE DATABASE); "
    "`make test` starts a throwaway server when PostgreSQL is installed (scripts/provision.sh)"
)
OPA_HOWTO = (
    "OPA server tests need SCHAKEL_TEST_OPA_URL (e.g. http://127.0.0.1:8181 from "
    "`opa run --server`); `make test` starts one when opa is installed (scripts/provision.sh)"
)


def require_service(variable: str, howto: str) -> str:
    """The service URL from the environment; on a laptop skip with a how-to, in CI fail."""
    value = os.environ.get(variable)
    if value:
        return value
    if IN_CI:
        pytest.fail(f"{variable} is not set in CI: {howto}")
    pytest.skip(howto)


def pytest_configure(config: pytest.Config) -> None:
    silence_eddsa_name_warning()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI nothing may skip: a skipped test means a real component was not tested."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if IN_CI and skipped:
        reporter.write_line(f"error: {skipped} test(s) skipped in CI; nothing may skip", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    return require_service("SCHAKEL_TEST_POSTGRES_URL", POSTGRES_HOWTO)


@pytest.fixture(scope="session")
def opa_url() -> str:
    return require_service("SCHAKEL_TEST_OPA_URL", OPA_HOWTO)


def _fresh_postgres_database(admin_url: str) -> Iterator[str]:
    name = f"schakel_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """An empty PostgreSQL database of its own for one test."""
    yield from _fresh_postgres_database(postgres_admin_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Storage tests run twice: on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'schakel.db'}"
        return
    admin_url = require_service("SCHAKEL_TEST_POSTGRES_URL", POSTGRES_HOWTO)
    yield from _fresh_postgres_database(admin_url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        database_url=database_url,
        public_url="http://testserver",
    )

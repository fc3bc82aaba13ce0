"""Migrations on SQLite and PostgreSQL, and the `schakel` command as an operator uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.core.db import make_engine
from gateway.migrations.current import HEADS, schema_is_current
from gateway.migrations.runner import (
    head_revisions,
    pending_migrations,
    target_metadata,
    upgrade_to_head,
)

runner = CliRunner()


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHAKEL_DATABASE_URL", database_url)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))


def test_migrate_creates_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert pending_migrations(connection)
        assert not schema_is_current(connection)
    upgrade_to_head(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"parties", "seen_client_assertions", "alembic_version"} <= tables
    with engine.connect() as connection:
        assert not pending_migrations(connection)
        assert schema_is_current(connection)
    upgrade_to_head(engine)  # a second run is a no-op


def test_the_migrations_build_the_tables_the_models_declare(database_url: str) -> None:
    """Columns, types and indexes as the models have them: nothing left to autogenerate."""
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": target_metadata()}
        )
        assert compare_metadata(context, target_metadata()) == []
    engine.dispose()


def test_the_heads_a_server_checks_are_alembics() -> None:
    assert head_revisions() == HEADS


def test_a_serving_process_loads_no_library_it_may_never_use(tmp_path: Path) -> None:
    """Migrations (alembic), PDF receipts (fpdf2 with fontTools and Pillow) and noise for
    monitoring releases (OpenDP) are loaded when first used: a process that uses none of them
    does not carry their memory."""
    import subprocess
    import sys

    database = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade_to_head(make_engine(database))
    probe = (
        "import sys; from gateway.cli.common import migrated_engine; from gateway.app import"
        " create_app; from gateway.settings import Settings;"
        f" migrated_engine(Settings(_env_file=None, database_url={database!r}),"
        " migrate_sqlite=True);"
        " print(sorted({'alembic', 'fpdf', 'fontTools', 'PIL', 'opendp'} & set(sys.modules)))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_serve_refuses_an_unmigrated_postgresql(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, postgres_url: str
) -> None:
    _env(monkeypatch, tmp_path, postgres_url)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "run `schakel migrate`" in result.output


def test_bad_configuration_stops_the_command_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHAKEL_PORT", "-1")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "SCHAKEL_PORT: Input should be greater than or equal to 1" in result.output


def test_party_add_list_disable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    _env(monkeypatch, tmp_path, database_url)
    if not database_url.startswith("sqlite"):
        assert runner.invoke(app, ["migrate"]).exit_code == 0
    keys = runner.invoke(
        app, ["keys", "generate", "--out", "k", "--kid", "uwv-1", "--alg", "ES256"]
    )
    assert keys.exit_code == 0, keys.output
    assert (tmp_path / "k" / "private.jwk.json").stat().st_mode & 0o077 == 0
    add = [
        "party", "add", "uwv-leiden", "--domain", "uwv", "--name", "UWV Leiden",
        "--jwks", "k/jwks.json", "--purpose", "reintegration", "--role", "reintegration-advisor",
    ]  # fmt: skip
    assert runner.invoke(app, add).exit_code == 0
    again = runner.invoke(app, add)
    assert again.exit_code == 2
    assert "already registered" in again.output
    listed = json.loads(runner.invoke(app, ["party", "list", "--json"]).output)
    assert listed[0]["id"] == "uwv-leiden"
    assert listed[0]["kids"] == ["uwv-1"]
    assert listed[0]["enabled"] is True
    assert runner.invoke(app, ["party", "disable", "uwv-leiden"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["party", "list", "--json"]).output)[0]["enabled"] is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--domain", "bank"], "unknown domain 'bank'"),
        (["--purpose", "marketing"], "unknown purpose 'marketing'"),
        (["--role", "insurance-physician", "--domain", "ggz"], "is not held in domain 'ggz'"),
    ],
)
def test_party_add_refuses_what_the_catalogue_does_not_know(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, change: list[str], message: str
) -> None:
    _env(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    runner.invoke(app, ["keys", "generate", "--out", "k", "--kid", "k1"])
    base = {"--domain": "uwv", "--purpose": "reintegration"}
    base.update(dict(zip(change[::2], change[1::2], strict=True)))
    args = ["party", "add", "p1", "--name", "P", "--jwks", "k/jwks.json"]
    for option, value in base.items():
        args += [option, value]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("jwks", "message"),
    [
        ({"keys": []}, "holds no keys"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}, "private or secret key material"),
        (
            {
                "keys": [
                    {
                        "kty": "OKP",
                        "crv": "Ed25519",
                        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                    }
                ]
            },
            'no "kid"',
        ),
    ],
)
def test_party_add_refuses_unusable_key_sets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, jwks: object, message: str
) -> None:
    _env(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    result = runner.invoke(
        app,
        [
            "party",
            "add",
            "p1",
            "--domain",
            "uwv",
            "--name",
            "P",
            "--jwks",
            "jwks.json",
            "--purpose",
            "reintegration",
        ],
    )
    assert result.exit_code == 2
    assert message in result.output


def test_demo_seeds_the_demo_parties_once_and_prints_how_to_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _env(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "demo parties: 10 added" in first.output
    assert "demo trajectories: 480 added" in first.output
    assert "/oauth/token" in first.output and "demo conference" in first.output
    again = runner.invoke(app, ["demo"]).output
    assert again.count("0 added") == 1 and "demo trajectories: there already" in again
    domains = {
        row["domain"] for row in json.loads(runner.invoke(app, ["party", "list", "--json"]).output)
    }
    assert domains == {
        "ggz", "uwv", "gemeente", "client-support", "reintegration-provider", "peer-support",
        "shelter", "employer", "region",
    }  # fmt: skip
    assertion = runner.invoke(
        app, ["client-assertion", "uwv-leiden", "--key", "var/demo/uwv-leiden/private.jwk.json"]
    )
    assert assertion.exit_code == 0
    assert assertion.output.count(".") == 2


def test_production_keys_from_keys_init_start_a_gateway_that_generates_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from gateway.cli.keys import KEY_FILES
    from gateway.runtime import build_runtime
    from gateway.settings import Settings

    monkeypatch.chdir(tmp_path)
    made = runner.invoke(app, ["keys", "init", "--out", "secrets"])
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["keys", "init", "--out", "secrets"]).exit_code == 2
    for name in KEY_FILES:
        assert (tmp_path / "secrets" / name).stat().st_mode & 0o077 == 0
    secrets = tmp_path / "secrets"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "empty",
        generate_missing_keys=False,
        token_signing_key_file=secrets / "token-signing.pem",
        audit_signing_key_file=secrets / "audit-signing.pem",
        receipt_signing_key_file=secrets / "receipt-signing.pem",
        session_key_file=secrets / "session.key",
        identity_keys_file=secrets / "identity.json",
        kek_file=secrets / "kek.b64",
    )
    build_runtime(settings).close()
    assert not (tmp_path / "empty" / "keys").exists()


def test_a_missing_production_key_stops_serve_with_the_setting_to_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _env(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("SCHAKEL_GENERATE_MISSING_KEYS", "false")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "SCHAKEL_TOKEN_SIGNING_KEY_FILE" in result.output
    assert not (tmp_path / "var" / "keys").exists()

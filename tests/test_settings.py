"""Settings are validated at start-up, with one clear line per bad value."""

from __future__ import annotations

import pytest

from gateway.settings import SettingsError, load_settings


def test_each_bad_value_is_named_with_what_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHAKEL_PORT", "eighty")
    monkeypatch.setenv("SCHAKEL_LOG_LEVEL", "LOUD")
    monkeypatch.setenv("SCHAKEL_DATABASE_URL", "mysql://x")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "SCHAKEL_PORT: Input should be a valid integer" in message
    assert "'eighty'" in message
    assert "SCHAKEL_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR" in message
    assert "SCHAKEL_DATABASE_URL: must start with sqlite:// or postgresql://" in message


def test_misspelt_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match="SCHAKEL_DATABSE_URL: unknown setting"):
        load_settings(environ={"SCHAKEL_DATABSE_URL": "sqlite://"})


def test_port_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHAKEL_PORT", "70000")
    with pytest.raises(
        SettingsError, match="SCHAKEL_PORT: Input should be less than or equal to 65535"
    ):
        load_settings()


def test_plain_postgres_url_selects_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHAKEL_DATABASE_URL", "postgresql://u:p@db/schakel")
    assert load_settings().effective_database_url == "postgresql+psycopg://u:p@db/schakel"


def test_dotenv_file_is_read(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / ".env").write_text("SCHAKEL_PORT=8123\n")
    monkeypatch.chdir(folder)
    assert load_settings().port == 8123


def test_defaults_are_the_embedded_gateway() -> None:
    settings = load_settings(environ={})
    assert settings.is_sqlite
    assert settings.policy_engine.value == "embedded"
    assert settings.token_endpoint == "http://127.0.0.1:8000/oauth/token"


def test_a_rejected_secret_or_url_password_is_never_echoed() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(
            {}, _env_file=None,
            database_url="mysql://schakel:hunter2-secret@db.internal/schakel",
            kek=["not", "a", "string", "s3cr3t-kek"],
        )  # fmt: skip
    message = str(raised.value)
    assert "SCHAKEL_DATABASE_URL" in message and "SCHAKEL_KEK" in message
    assert "hunter2-secret" not in message and "s3cr3t-kek" not in message
    assert "schakel:***@db.internal" in message

"""What every ``schakel`` sub-command shares: settings with readable errors, a migrated database."""

from __future__ import annotations

from typing import NoReturn

import typer
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import DBAPIError

from gateway.audit_log.trail import AuditTrail
from gateway.auth.signing_key import SigningKeyError
from gateway.core.clock import system_clock
from gateway.core.db import make_engine
from gateway.migrations.current import schema_is_current
from gateway.notices.flow import Notifier
from gateway.runtime import AuditKeys, audit_trail_for, identity_keys_for, load_audit_keys
from gateway.settings import Settings, SettingsError, load_settings


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def cli_settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        fail(str(error))


def reachable_engine(settings: Settings) -> Engine:
    """The database engine, once a connection has been made; one line saying what to do if not."""
    url = settings.effective_database_url
    try:
        engine = make_engine(url)
        with engine.connect():
            pass
    except (DBAPIError, OSError) as error:
        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        fail(
            f"SCHAKEL_DATABASE_URL: cannot open the database at {shown} ({reason}); start the "
            "server, create the database, or correct the URL"
        )
    return engine


def migrated_engine(settings: Settings, *, migrate_sqlite: bool) -> Engine:
    """Open the database; migrate SQLite ourselves, refuse an un-migrated PostgreSQL."""
    engine = reachable_engine(settings)
    with engine.connect() as connection:
        current = schema_is_current(connection)
    if current:
        return engine  # Alembic is not even loaded
    if settings.is_sqlite and migrate_sqlite:
        from gateway.migrations.runner import upgrade_to_head

        upgrade_to_head(engine)
        return engine
    fail(
        "the database schema is not up to date; run `schakel migrate` "
        "(with the same SCHAKEL_DATABASE_URL) and start again"
    )


def cli_audit_keys(settings: Settings) -> AuditKeys:
    try:
        return load_audit_keys(settings)
    except SigningKeyError as error:
        fail(str(error))


def cli_trail(settings: Settings) -> AuditTrail:
    """The one append path, as the gateway builds it: every CLI entry follows the checkpoint rule."""
    signing_key = cli_audit_keys(settings).signing_key
    return audit_trail_for(settings, signing_key, identity_keys_for(settings), system_clock)


def cli_notifier(settings: Settings) -> Notifier:
    """Deletion notices as the gateway sends them, for erasures made from the command line."""
    return Notifier(cli_trail(settings), settings.notice_acknowledge_working_days)

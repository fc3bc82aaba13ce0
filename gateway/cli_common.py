"""What every ``schakel`` sub-command shares: settings with readable errors, a migrated database."""

from __future__ import annotations

from typing import NoReturn

import typer
from sqlalchemy import Engine

from gateway.db import make_engine
from gateway.migrations.runner import pending_migrations, upgrade_to_head
from gateway.settings import Settings, SettingsError, load_settings


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def cli_settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        fail(str(error))


def migrated_engine(settings: Settings, *, migrate_sqlite: bool) -> Engine:
    """Open the database; migrate SQLite ourselves, refuse an un-migrated PostgreSQL."""
    engine = make_engine(settings.effective_database_url)
    if settings.is_sqlite and migrate_sqlite:
        upgrade_to_head(engine)
        return engine
    with engine.connect() as connection:
        if pending_migrations(connection):
            fail(
                "the database schema is not up to date; run `schakel migrate` "
                "(with the same SCHAKEL_DATABASE_URL) and start again"
            )
    return engine

"""The ``schakel`` command: serve and migrate here; each command group in a module of its own."""

from __future__ import annotations

import typer

from gateway.cli.audit import audit_app
from gateway.cli.common import cli_settings, fail, migrated_engine, reachable_engine
from gateway.cli.demo import demo_app
from gateway.cli.keys import client_assertion, keys_app
from gateway.cli.participant import participant_app, retention_app
from gateway.cli.party import party_app
from gateway.cli.witness import witness_app
from gateway.core.clock import system_clock
from gateway.core.logs import configure_logging, silence_eddsa_name_warning

app = typer.Typer(help="Schakel: privacy-preserving data exchange for the Dutch social domain.")
app.add_typer(party_app, name="party")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(participant_app, name="participant")
app.add_typer(retention_app, name="retention")
app.add_typer(demo_app, name="demo")
app.add_typer(witness_app, name="witness")
app.command("client-assertion")(client_assertion)


def main() -> None:
    silence_eddsa_name_warning()
    app()


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the latest version."""
    settings = cli_settings()
    configure_logging(settings.log_level, settings.log_format)
    from gateway.migrations.runner import upgrade_to_head

    upgrade_to_head(reachable_engine(settings))
    typer.echo("database schema is up to date")


@app.command()
def serve() -> None:
    """Run the gateway (SQLite and the embedded policy engine unless configured otherwise)."""
    import uvicorn

    from gateway.app import create_app
    from gateway.auth.sign_in_providers import ProviderFileError
    from gateway.auth.signing_key import SigningKeyError
    from gateway.identity.keys import IdentityKeyError
    from gateway.policy.engine import PolicyEngineUnavailable
    from gateway.policy.probes import ProbesError
    from gateway.runtime import build_runtime
    from gateway.storage.kek import KekError

    settings = cli_settings()
    configure_logging(settings.log_level, settings.log_format)
    migrated_engine(settings, migrate_sqlite=True).dispose()
    try:
        runtime = build_runtime(settings, clock=system_clock)
    except (
        SigningKeyError, PolicyEngineUnavailable, ProbesError, IdentityKeyError, KekError,
        ProviderFileError,
    ) as error:  # fmt: skip
        fail(str(error))
    uvicorn.run(
        create_app(runtime),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=False,
        server_header=False,
    )

"""The ``schakel`` command: serve, migrate, manage parties and keys, seed the demo."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from sqlalchemy import Engine

from gateway.catalogue import Catalogue
from gateway.clock import system_clock
from gateway.db import make_engine, make_sessionmaker, transaction
from gateway.demo import DEMO_PARTICIPANTS, DEMO_PARTIES, seed_demo, seed_demo_participants
from gateway.errors import GatewayError
from gateway.logs import configure_logging
from gateway.migrations.runner import pending_migrations, upgrade_to_head
from gateway.partner_keys import (
    KEY_ALGORITHMS,
    generate_partner_key,
    read_private_key,
    sign_client_assertion,
    write_key_pair,
)
from gateway.registry import service as registry
from gateway.runtime import identity_keys_for
from gateway.settings import Settings, SettingsError, load_settings

app = typer.Typer(help="Schakel: privacy-preserving data exchange for the Dutch social domain.")
party_app = typer.Typer(help="Manage the partner systems that may call the gateway.")
keys_app = typer.Typer(help="Partner key pairs.")
app.add_typer(party_app, name="party")
app.add_typer(keys_app, name="keys")


def main() -> None:
    app()


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        _fail(str(error))


def _migrated_engine(settings: Settings, *, migrate_sqlite: bool) -> Engine:
    """Open the database; migrate SQLite ourselves, refuse an un-migrated PostgreSQL."""
    engine = make_engine(settings.effective_database_url)
    if settings.is_sqlite and migrate_sqlite:
        upgrade_to_head(engine)
        return engine
    with engine.connect() as connection:
        if pending_migrations(connection):
            _fail(
                "the database schema is not up to date; run `schakel migrate` "
                "(with the same SCHAKEL_DATABASE_URL) and start again"
            )
    return engine


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the latest version."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    upgrade_to_head(make_engine(settings.effective_database_url))
    typer.echo("database schema is up to date")


@app.command()
def serve() -> None:
    """Run the gateway (SQLite and the embedded policy engine unless configured otherwise)."""
    import uvicorn

    from gateway.app import create_app
    from gateway.auth.signing_key import SigningKeyError
    from gateway.policy.engine import PolicyEngineUnavailable
    from gateway.runtime import build_runtime

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _migrated_engine(settings, migrate_sqlite=True).dispose()
    try:
        runtime = build_runtime(settings, clock=system_clock)
    except (SigningKeyError, PolicyEngineUnavailable) as error:
        _fail(str(error))
    uvicorn.run(
        create_app(runtime),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=False,
        server_header=False,
    )


@party_app.command("add")
def party_add(
    party_id: Annotated[str, typer.Argument(help="Client id, e.g. uwv-leiden")],
    domain: Annotated[str, typer.Option(help="ggz, uwv, gemeente or client-support")],
    name: Annotated[str, typer.Option(help="Display name")],
    jwks: Annotated[Path, typer.Option(help="File with the party's public JWKS")],
    purpose: Annotated[list[str], typer.Option(help="Purpose it may request (repeat)")],
    role: Annotated[list[str] | None, typer.Option(help="Role it acts in (repeat)")] = None,
) -> None:
    """Register a partner system with its public keys."""
    settings = _settings()
    try:
        document = json.loads(jwks.read_text("utf-8"))
    except (OSError, ValueError) as error:
        _fail(f"cannot read the JWKS file {jwks}: {error}")
    engine = _migrated_engine(settings, migrate_sqlite=True)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            registry.add_party(
                session=session,
                catalogue=Catalogue.load(settings.policies_dir),
                party_id=party_id,
                domain=domain,
                display_name=name,
                jwks=document,
                purposes=purpose,
                roles=role or [],
                now=system_clock(),
            )
    except GatewayError as error:
        _fail(error.detail)
    typer.echo(f"party {party_id} registered")


@party_app.command("list")
def party_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List registered parties."""
    settings = _settings()
    engine = _migrated_engine(settings, migrate_sqlite=True)
    with transaction(make_sessionmaker(engine)) as session:
        rows: list[dict[str, Any]] = [
            {
                "id": party.id,
                "domain": party.domain,
                "display_name": party.display_name,
                "roles": party.roles,
                "purposes": party.purposes,
                "enabled": party.enabled,
                "kids": [key.get("kid") for key in party.jwks.get("keys", [])],
            }
            for party in registry.list_parties(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        state = "enabled" if row["enabled"] else "DISABLED"
        typer.echo(
            f"{row['id']:<22} {row['domain']:<15} {state:<9} "
            f"purposes={','.join(row['purposes'])} roles={','.join(row['roles'])}"
        )


@party_app.command("disable")
def party_disable(party_id: Annotated[str, typer.Argument()]) -> None:
    """Stop a party from authenticating; its current tokens stop working at once."""
    settings = _settings()
    engine = _migrated_engine(settings, migrate_sqlite=True)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            registry.disable_party(session=session, party_id=party_id, now=system_clock())
    except GatewayError as error:
        _fail(error.detail)
    typer.echo(f"party {party_id} disabled")


@keys_app.command("generate")
def keys_generate(
    out: Annotated[Path, typer.Option(help="Folder for private.jwk.json and jwks.json")],
    kid: Annotated[str, typer.Option(help="Key id to put in the JWKS")],
    alg: Annotated[str, typer.Option(help="ES256 or EdDSA")] = "ES256",
) -> None:
    """Generate a partner key pair: keep private.jwk.json, register jwks.json."""
    if alg not in KEY_ALGORITHMS:
        _fail(f"--alg must be one of {', '.join(KEY_ALGORITHMS)}")
    if (out / "private.jwk.json").exists():
        _fail(f"{out / 'private.jwk.json'} exists; choose another folder")
    private_path, public_path = write_key_pair(generate_partner_key(alg, kid), out)
    typer.echo(f"private key: {private_path} (keep it secret)\npublic JWKS: {public_path}")


@app.command("client-assertion")
def client_assertion(
    party_id: Annotated[str, typer.Argument(help="Client id")],
    key: Annotated[Path, typer.Option(help="The party's private.jwk.json")],
    audience: Annotated[str | None, typer.Option(help="Token endpoint URL")] = None,
    lifetime: Annotated[int, typer.Option(help="Seconds until it expires")] = 60,
) -> None:
    """Print a fresh signed client assertion (RFC 7523) for a token request with curl."""
    settings = _settings()
    typer.echo(
        sign_client_assertion(
            key=read_private_key(key),
            client_id=party_id,
            audience=audience or settings.token_endpoint,
            now=system_clock(),
            lifetime=timedelta(seconds=lifetime),
        )
    )


@app.command()
def demo() -> None:
    """Seed the demo parties, write their keys and show how to call the gateway as each."""
    settings = _settings()
    engine = _migrated_engine(settings, migrate_sqlite=True)
    folder = settings.data_dir / "demo"
    try:
        with transaction(make_sessionmaker(engine)) as session:
            catalogue = Catalogue.load(settings.policies_dir)
            created = seed_demo(
                session=session, catalogue=catalogue, clock=system_clock, folder=folder
            )
            seed_demo_participants(
                session=session,
                keys=identity_keys_for(settings),
                catalogue=catalogue,
                clock=system_clock,
            )
    except GatewayError as error:
        _fail(error.detail)
    typer.echo(f"demo parties: {len(created)} added, keys in {folder}/<party>/private.jwk.json\n")
    for party in DEMO_PARTIES:
        typer.echo(f"  {party.id:<20} {party.domain:<15} {party.display_name}")
    example = DEMO_PARTIES[1].id
    typer.echo(
        f"""
Call the gateway as {example} (any demo party works the same way):

  TOKEN=$(curl -s {settings.token_endpoint} \\
    -d grant_type=client_credentials \\
    -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\
    -d client_assertion=$(schakel client-assertion {example} \\
         --key {folder}/{example}/private.jwk.json) \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -H "Authorization: Bearer $TOKEN" {settings.public_url}/v1/whoami

Demo participants ({", ".join(f"{p.name} (BSN {p.bsn})" for p in DEMO_PARTICIPANTS)})
log in with POST {settings.public_url}/v1/demo/login {{"bsn": "..."}} when the gateway runs
with SCHAKEL_DEMO_LOGIN=true (as `make run` does), then manage consents at /v1/me/consents.

API documentation: {settings.public_url}/docs"""
    )

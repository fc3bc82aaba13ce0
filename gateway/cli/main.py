"""The ``schakel`` command: serve, migrate, manage parties and keys, seed the demo."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.auth.partner_keys import (
    KEY_ALGORITHMS,
    generate_partner_key,
    read_private_key,
    sign_client_assertion,
    write_key_pair,
)
from gateway.cli.common import cli_settings, fail, migrated_engine
from gateway.cli.participant import init_keys, new_kek, participant_app, retention_app, rotate_kek
from gateway.core.catalogue import Catalogue
from gateway.core.clock import system_clock
from gateway.core.db import make_engine, make_sessionmaker, read_transaction, transaction
from gateway.core.logs import configure_logging
from gateway.demo.seed import DEMO_PARTICIPANTS, DEMO_PARTIES, seed_demo, seed_demo_participants
from gateway.errors import GatewayError
from gateway.registry import service as registry
from gateway.runtime import AuditKeys, identity_keys_for, load_audit_keys
from gateway.settings import Settings

app = typer.Typer(help="Schakel: privacy-preserving data exchange for the Dutch social domain.")
party_app = typer.Typer(help="Manage the partner systems that may call the gateway.")
keys_app = typer.Typer(help="Partner key pairs.")
app.add_typer(party_app, name="party")
app.add_typer(keys_app, name="keys")
audit_app = typer.Typer(help="Verify, export and checkpoint the audit log.")
app.add_typer(audit_app, name="audit")
app.add_typer(participant_app, name="participant")
app.add_typer(retention_app, name="retention")
keys_app.command("init")(init_keys)
keys_app.command("new-kek")(new_kek)
keys_app.command("rotate-kek")(rotate_kek)


def main() -> None:
    app()


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the latest version."""
    settings = cli_settings()
    configure_logging(settings.log_level, settings.log_format)
    from gateway.migrations.runner import upgrade_to_head

    upgrade_to_head(make_engine(settings.effective_database_url))
    typer.echo("database schema is up to date")


@app.command()
def serve() -> None:
    """Run the gateway (SQLite and the embedded policy engine unless configured otherwise)."""
    import uvicorn

    from gateway.app import create_app
    from gateway.auth.signing_key import SigningKeyError
    from gateway.identity.keys import IdentityKeyError
    from gateway.policy.engine import PolicyEngineUnavailable
    from gateway.runtime import build_runtime
    from gateway.storage.kek import KekError

    settings = cli_settings()
    configure_logging(settings.log_level, settings.log_format)
    migrated_engine(settings, migrate_sqlite=True).dispose()
    try:
        runtime = build_runtime(settings, clock=system_clock)
    except (SigningKeyError, PolicyEngineUnavailable, IdentityKeyError, KekError) as error:
        fail(str(error))
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
    settings = cli_settings()
    try:
        document = json.loads(jwks.read_text("utf-8"))
    except (OSError, ValueError) as error:
        fail(f"cannot read the JWKS file {jwks}: {error}")
    engine = migrated_engine(settings, migrate_sqlite=True)
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
        fail(error.detail)
    typer.echo(f"party {party_id} registered")


@party_app.command("list")
def party_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List registered parties."""
    settings = cli_settings()
    engine = migrated_engine(settings, migrate_sqlite=True)
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
    settings = cli_settings()
    engine = migrated_engine(settings, migrate_sqlite=True)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            registry.disable_party(session=session, party_id=party_id, now=system_clock())
    except GatewayError as error:
        fail(error.detail)
    typer.echo(f"party {party_id} disabled")


@keys_app.command("generate")
def keys_generate(
    out: Annotated[Path, typer.Option(help="Folder for private.jwk.json and jwks.json")],
    kid: Annotated[str, typer.Option(help="Key id to put in the JWKS")],
    alg: Annotated[str, typer.Option(help="ES256 or EdDSA")] = "ES256",
) -> None:
    """Generate a partner key pair: keep private.jwk.json, register jwks.json."""
    if alg not in KEY_ALGORITHMS:
        fail(f"--alg must be one of {', '.join(KEY_ALGORITHMS)}")
    if (out / "private.jwk.json").exists():
        fail(f"{out / 'private.jwk.json'} exists; choose another folder")
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
    settings = cli_settings()
    typer.echo(
        sign_client_assertion(
            key=read_private_key(key),
            client_id=party_id,
            audience=audience or settings.token_endpoint,
            now=system_clock(),
            lifetime=timedelta(seconds=lifetime),
        )
    )


demo_app = typer.Typer(help="Demo data and the demo story.", invoke_without_command=True)
app.add_typer(demo_app, name="demo")


@demo_app.command("story")
def demo_story(
    url: Annotated[
        str | None, typer.Option(help="The running gateway (default SCHAKEL_PUBLIC_URL)")
    ] = None,
) -> None:
    """Run the whole exchange against a running gateway (`make run`), printing each step."""
    import httpx

    from gateway.demo.story import Story, StoryFailed

    settings = cli_settings()
    base = url or settings.public_url
    with httpx.Client(base_url=base, timeout=10) as client:
        try:
            Story(client, settings.data_dir / "demo", typer.echo).run()
        except (StoryFailed, httpx.HTTPError, OSError) as error:
            fail(f"the story stopped: {error}", code=1)


def _invoked_as() -> str:
    """How the operator ran us (e.g. .venv/bin/schakel), so printed commands work as pasted."""
    invoked = Path(sys.argv[0])
    return str(invoked) if invoked.name == "schakel" and invoked.parent != Path() else "schakel"


@demo_app.callback()
def demo(context: typer.Context) -> None:
    """Seed the demo parties and participants, write their keys, and show how to call the gateway."""
    if context.invoked_subcommand is not None:
        return
    settings = cli_settings()
    engine = migrated_engine(settings, migrate_sqlite=True)
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
        fail(error.detail)
    typer.echo(f"demo parties: {len(created)} added, keys in {folder}/<party>/private.jwk.json\n")
    for party in DEMO_PARTIES:
        typer.echo(f"  {party.id:<20} {party.domain:<15} {party.display_name}")
    example = DEMO_PARTIES[1].id
    command = _invoked_as()
    typer.echo(
        f"""
Call the gateway as {example} (any demo party works the same way):

  TOKEN=$(curl -s {settings.token_endpoint} \\
    -d grant_type=client_credentials \\
    -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\
    -d client_assertion=$({command} client-assertion {example} \\
         --key {folder}/{example}/private.jwk.json) \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -H "Authorization: Bearer $TOKEN" {settings.public_url}/v1/whoami

Demo participants ({", ".join(f"{p.name} (BSN {p.bsn})" for p in DEMO_PARTICIPANTS)})
log in with POST {settings.public_url}/v1/demo/login {{"bsn": "..."}} when the gateway runs
with SCHAKEL_DEMO_LOGIN=true (as `make run` does), then manage consents at /v1/me/consents.
With the gateway running, `{command} demo story` plays a whole exchange and prints each step.

API documentation: {settings.public_url}/docs"""
    )


@audit_app.command("verify")
def audit_verify(
    export: Annotated[
        Path | None, typer.Option(help="Verify this export offline instead of the database")
    ] = None,
    keys: Annotated[
        Path | None, typer.Option(help="JWKS of the audit keys (GET /v1/audit/keys); with --export")
    ] = None,
) -> None:
    """Check the hash chain and every signed checkpoint; exit 1 at the first wrong entry."""
    from audit.verify_database import verify_database
    from audit.verify_export import verify_export

    if export is not None:
        if keys is None:
            fail("--export needs --keys, the JWKS from GET /v1/audit/keys")
        try:
            jwks = json.loads(keys.read_text("utf-8"))
        except (OSError, ValueError) as error:
            fail(f"cannot read the JWKS file {keys}: {error}")
        report = verify_export(export, jwks, progress=_verify_progress())
    else:
        settings = cli_settings()
        engine = migrated_engine(settings, migrate_sqlite=False)
        jwks = _audit_keys(settings).jwks
        # A read transaction: writers go on while the log is verified.
        with read_transaction(make_sessionmaker(engine)) as session:
            report = verify_database(session=session, jwks=jwks, progress=_verify_progress())
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


def _verify_progress() -> Callable[[int], None] | None:
    """Entries checked so far and the rate, on stderr when a person is watching it."""
    if not sys.stderr.isatty():
        return None
    start = time.monotonic()

    def report(entries: int) -> None:
        rate = entries / max(time.monotonic() - start, 1e-9)
        typer.echo(f"verified {entries:,} entries ({rate:,.0f}/s)", err=True)

    return report


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option(help="File to write (NDJSON, docs/audit-format.md)")],
) -> None:
    """Write the whole log with its checkpoints, for `schakel audit verify --export`."""
    from audit.export import write_export

    settings = cli_settings()
    engine = migrated_engine(settings, migrate_sqlite=False)
    with transaction(make_sessionmaker(engine)) as session, out.open("w", encoding="utf-8") as file:
        lines = write_export(session=session, out=file, clock=system_clock)
    typer.echo(f"wrote {lines} lines to {out}")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint over the newest entry now."""
    from audit.checkpoint import create_checkpoint
    from audit.errors import EmptyLog

    settings = cli_settings()
    engine = migrated_engine(settings, migrate_sqlite=False)
    signing_key = _audit_keys(settings).signing_key
    try:
        with transaction(make_sessionmaker(engine)) as session:
            checkpoint = create_checkpoint(
                session=session, signing_key=signing_key, clock=system_clock
            )
    except EmptyLog as error:
        fail(str(error))
    typer.echo(
        f"checkpoint at seq {checkpoint.seq} ({checkpoint.entry_hash}), key {checkpoint.kid}"
    )


def _audit_keys(settings: Settings) -> AuditKeys:
    from gateway.auth.signing_key import SigningKeyError

    try:
        return load_audit_keys(settings)
    except SigningKeyError as error:
        fail(str(error))

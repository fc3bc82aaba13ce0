"""``schakel party add|list|disable``: the partner systems that may call the gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.cli.common import cli_settings, fail, migrated_engine
from gateway.core.catalogue import Catalogue
from gateway.core.clock import system_clock
from gateway.core.db import make_sessionmaker, transaction
from gateway.errors import GatewayError
from gateway.registry import service as registry

party_app = typer.Typer(help="Manage the partner systems that may call the gateway.")


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

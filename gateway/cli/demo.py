"""``schakel demo [story|conference]``: seed the demo parties and participants, and play the demo
story or a case conference."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.common import cli_settings, fail, migrated_engine
from gateway.core.catalogue import Catalogue
from gateway.core.clock import system_clock
from gateway.core.db import make_sessionmaker, transaction
from gateway.demo.seed import DEMO_PARTICIPANTS, DEMO_PARTIES, seed_demo, seed_demo_participants
from gateway.demo.trajectories import Seeded, seed_trajectories
from gateway.errors import GatewayError
from gateway.runtime import build_runtime, identity_keys_for
from gateway.settings import Settings

demo_app = typer.Typer(
    help="Demo data, the demo story and a case conference.", invoke_without_command=True
)


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


@demo_app.command("conference")
def demo_conference(
    url: Annotated[
        str | None, typer.Option(help="The running gateway (default SCHAKEL_PUBLIC_URL)")
    ] = None,
    window_seconds: Annotated[
        float, typer.Option(min=3, max=600, help="How long the conference's views stay open")
    ] = 20,
) -> None:
    """Play one case conference against a running gateway (`make run`), printing each step."""
    import httpx

    from gateway.demo.conference_story import ConferenceStory
    from gateway.demo.story import Story, StoryFailed

    settings = cli_settings()
    base = url or settings.public_url
    with httpx.Client(base_url=base, timeout=10) as client:
        try:
            story = Story(client, settings.data_dir / "demo", typer.echo)
            ConferenceStory(client, story, typer.echo, window_seconds=window_seconds).run()
        except (StoryFailed, httpx.HTTPError, OSError) as error:
            fail(f"the conference stopped: {error}", code=1)


def _seed_trajectories(settings: Settings) -> Seeded | None:
    """Several hundred generated trajectories, through the flows partners use (demo only)."""
    runtime = build_runtime(settings)
    try:
        with transaction(runtime.sessions) as session:
            return seed_trajectories(session, runtime, today=system_clock().date())
    except GatewayError as error:
        fail(error.detail)
    finally:
        runtime.close()


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
    seeded = _seed_trajectories(settings)
    typer.echo(f"demo parties: {len(created)} added, keys in {folder}/<party>/private.jwk.json")
    typer.echo(
        "demo trajectories: "
        + (
            f"{seeded.participants} added, {seeded.consents} with a consent to be counted\n"
            if seeded is not None
            else "there already\n"
        )
    )
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
With the gateway running, `{command} demo story` plays a whole exchange and prints each step,
and `{command} demo conference` plays a case conference. The steering group's page is at
{settings.public_url}/stuurgroep (log in as stuurgroep-holland-rijnland; it asks for a release).

API documentation: {settings.public_url}/docs"""
    )

"""``schakel participant erase`` and ``schakel retention run``: crypto-shredding, audited through
the one append path."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from bsn import is_valid_bsn
from consent.service import consents_in_force
from gateway.cli.common import cli_notifier, cli_settings, fail, migrated_engine
from gateway.core.clock import system_clock
from gateway.core.db import make_sessionmaker, transaction
from gateway.identity.erasure import erase as erase_participant
from gateway.identity.models import Participant
from gateway.identity.vault import AUDIT_DOMAIN, find_by_bsn, find_by_pseudonym, pseudonym
from gateway.storage.service import participants_idle_since

participant_app = typer.Typer(help="Participant data: crypto-shredding.")
retention_app = typer.Typer(help="Retention: erase participants idle longer than configured.")


@participant_app.command("erase")
def erase(
    bsn: Annotated[str | None, typer.Option(help="The participant's BSN")] = None,
    pseudonym_value: Annotated[
        str | None, typer.Option("--pseudonym", help="A domain pseudonym (with --domain)")
    ] = None,
    domain: Annotated[str | None, typer.Option(help="Domain of --pseudonym")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone")] = False,
) -> None:
    """Destroy a participant's data key: every contribution becomes unreadable, backups too.

    The audit trail stays (it names the participant by pseudonym only) and stays verifiable;
    every party that received their data gets a deletion notice.
    """
    if (bsn is None) == (pseudonym_value is None):
        fail("name the participant by exactly one of --bsn or --pseudonym")
    if not yes:
        fail("erasure cannot be undone; repeat with --yes")
    settings = cli_settings()
    notifier = cli_notifier(settings)
    keys = notifier.trail.identity_keys
    engine = migrated_engine(settings, migrate_sqlite=True)
    with transaction(make_sessionmaker(engine)) as session:
        if bsn is not None:
            if not is_valid_bsn(bsn):
                fail("not a valid BSN (nine digits passing the 11-proof)")
            participant = find_by_bsn(session, keys, bsn)
        else:
            if domain is None:
                fail("--pseudonym needs --domain")
            participant = find_by_pseudonym(session, domain, pseudonym_value or "")
        if participant is None:
            fail("no such participant")
        erase_participant(session, notifier, participant, "erased on request: data key destroyed")
    typer.echo("participant erased: their contributions can no longer be decrypted")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list who is due")] = False,
) -> None:
    """Erase participants idle longer than SCHAKEL_RETENTION_YEARS with no consent in force."""
    settings = cli_settings()
    if settings.retention_years is None:
        typer.echo("SCHAKEL_RETENTION_YEARS is not set: nothing expires")
        return
    notifier = cli_notifier(settings)
    now = system_clock()
    cutoff = now - timedelta(days=365 * settings.retention_years)
    sessions = make_sessionmaker(migrated_engine(settings, migrate_sqlite=True))
    with transaction(sessions) as session:
        due = [
            participant_id
            for participant_id in participants_idle_since(session=session, cutoff=cutoff)
            if not consents_in_force(session=session, participant_id=participant_id, at=now)
        ]
    for participant_id in due:
        if dry_run:
            typer.echo(
                f"due: {pseudonym(notifier.trail.identity_keys, AUDIT_DOMAIN, participant_id)}"
            )
            continue
        with transaction(sessions) as session:
            participant = session.get(Participant, participant_id)
            assert participant is not None
            erase_participant(
                session,
                notifier,
                participant,
                f"retention: idle over {settings.retention_years} years",
            )
    verb = "due for erasure" if dry_run else "erased"
    typer.echo(f"{len(due)} participant(s) {verb} (idle since before {cutoff.date()})")

"""Operator commands on keys and participant data: production keys, erasure, KEK rotation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.append import append_entry
from audit.schemas import AuditDraft, Outcome
from consent.service import consents_in_force
from gateway.auth.signing_key import generate_ed25519_pem
from gateway.cli.common import cli_settings, fail, migrated_engine
from gateway.core.clock import system_clock
from gateway.core.db import make_sessionmaker, transaction
from gateway.identity.bsn import is_valid_bsn
from gateway.identity.keys import IdentityKeys, load_identity_keys
from gateway.identity.models import Participant
from gateway.identity.vault import AUDIT_DOMAIN, find_by_bsn, find_by_pseudonym, pseudonym
from gateway.runtime import identity_keys_for
from gateway.storage.kek import KekError, load_kek, new_kek_text
from gateway.storage.service import erase_participant, participants_idle_since, rewrap_batch

participant_app = typer.Typer(help="Participant data: crypto-shredding.")
retention_app = typer.Typer(help="Retention: erase participants idle longer than configured.")
OPERATOR = "operator"


def _erase(session: Session, keys: IdentityKeys, participant: Participant, reason: str) -> bool:
    """Destroy the data key and record it; the audit entry names the participant by pseudonym."""
    destroyed = erase_participant(
        session=session, participant_id=participant.id, now=system_clock()
    )
    append_entry(
        session=session,
        draft=AuditDraft(
            actor_party=OPERATOR,
            actor_domain=OPERATOR,
            action=Action.PARTICIPANT_ERASE,
            subject_ref=pseudonym(keys, AUDIT_DOMAIN, participant.id),
            outcome=Outcome.OK,
            reason=reason if destroyed else f"{reason}; no data held, erasure recorded",
        ),
        clock=system_clock,
    )
    return destroyed


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

    The audit trail stays (it names the participant by pseudonym only) and stays verifiable.
    """
    if (bsn is None) == (pseudonym_value is None):
        fail("name the participant by exactly one of --bsn or --pseudonym")
    if not yes:
        fail("erasure cannot be undone; repeat with --yes")
    settings = cli_settings()
    keys = identity_keys_for(settings)
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
        _erase(session, keys, participant, "erased on request: data key destroyed")
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
    keys = identity_keys_for(settings)
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
            typer.echo(f"due: {pseudonym(keys, AUDIT_DOMAIN, participant_id)}")
            continue
        with transaction(sessions) as session:
            participant = session.get(Participant, participant_id)
            assert participant is not None
            _erase(
                session, keys, participant, f"retention: idle over {settings.retention_years} years"
            )
    verb = "due for erasure" if dry_run else "erased"
    typer.echo(f"{len(due)} participant(s) {verb} (idle since before {cutoff.date()})")


KEY_FILES = ("token-signing.pem", "audit-signing.pem", "identity.json", "kek.b64")


def init_keys(
    out: Annotated[Path, typer.Option(help="Folder for the production keys (e.g. secrets)")],
) -> None:
    """Generate every key a production gateway needs, as the docker-compose secrets expect."""
    existing = [name for name in KEY_FILES if (out / name).exists()]
    if existing:
        fail(f"{', '.join(existing)} already in {out}; keys are never overwritten")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("token-signing.pem", "audit-signing.pem"):
        _write_secret(out / name, generate_ed25519_pem())
    load_identity_keys(out / "identity.json", create=True)
    _write_secret(out / "kek.b64", (new_kek_text() + "\n").encode())
    typer.echo(f"keys written to {out}: {', '.join(KEY_FILES)}; keep them secret and backed up")


def _write_secret(path: Path, content: bytes) -> None:
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(content)


def new_kek(out: Annotated[Path, typer.Option(help="File for the new KEK (base64, 0600)")]) -> None:
    """Generate a key-encryption key for a rotation."""
    if out.exists():
        fail(f"{out} exists")
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_secret(out, (new_kek_text() + "\n").encode())
    typer.echo(f"new KEK written to {out}")


def rotate_kek(
    old: Annotated[Path, typer.Option(help="The KEK file the data keys are wrapped with now")],
    new: Annotated[Path, typer.Option(help="The KEK file to re-wrap them with")],
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Keys per transaction")] = 500,
) -> None:
    """Re-wrap every data key from OLD to NEW, in short transactions, while gateways serve.

    Run the gateways with SCHAKEL_KEK_FILE=NEW and SCHAKEL_PREVIOUS_KEK_FILE=OLD during the
    rotation; once this reports done, drop SCHAKEL_PREVIOUS_KEK_FILE.
    """
    settings = cli_settings()
    try:
        old_kek, new_kek_ = load_kek(old, create=False), load_kek(new, create=False)
    except KekError as error:
        fail(str(error))
    if old_kek.kek_id == new_kek_.kek_id:
        fail("the old and new KEK are the same key")
    sessions = make_sessionmaker(migrated_engine(settings, migrate_sqlite=True))
    total = 0
    while True:
        with transaction(sessions) as session:
            done = rewrap_batch(session=session, old=old_kek, new=new_kek_, limit=batch)
        total += done
        if done < batch:
            break
    typer.echo(f"re-wrapped {total} data keys under KEK {new_kek_.kek_id}")

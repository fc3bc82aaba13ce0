"""``schakel audit verify|export|checkpoint``: check the log without trusting the gateway."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.common import cli_audit_keys, cli_settings, fail, migrated_engine
from gateway.core.clock import system_clock
from gateway.core.db import make_sessionmaker, read_transaction, transaction

audit_app = typer.Typer(help="Verify, export and checkpoint the audit log.")


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
        jwks = cli_audit_keys(settings).jwks
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
    signing_key = cli_audit_keys(settings).signing_key
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

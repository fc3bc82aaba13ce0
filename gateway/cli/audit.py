"""``schakel audit verify|export|checkpoint|prove|check-proof|consistency|check-consistency``:
check the log without trusting the gateway, and prove what it holds (docs/audit-format.md)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from audit.note import NoteError, Verifier
from gateway.cli.common import cli_audit_keys, cli_settings, fail, migrated_engine
from gateway.core.clock import system_clock
from gateway.core.db import make_sessionmaker, read_transaction, transaction
from gateway.settings import Settings

audit_app = typer.Typer(help="Verify, export, checkpoint and prove the audit log.")

KeysOption = Annotated[Path, typer.Option(help="JWKS of the audit keys (GET /v1/audit/keys)")]
OriginOption = Annotated[
    str | None, typer.Option(help="The log's origin (GET /v1/audit/log); default: as configured")
]
WitnessOption = Annotated[
    list[str] | None,
    typer.Option("--witness", help="A witness's cosignature key (vkey) to report on; repeatable"),
]


@audit_app.command("verify")
def audit_verify(
    export: Annotated[
        Path | None, typer.Option(help="Verify this export offline instead of the database")
    ] = None,
    keys: Annotated[
        Path | None, typer.Option(help="JWKS of the audit keys (GET /v1/audit/keys); with --export")
    ] = None,
    origin: OriginOption = None,
    witness: WitnessOption = None,
    witnessed: Annotated[
        list[Path] | None,
        typer.Option(
            help="A checkpoint note kept outside the log (e.g. from a witness); the log must hold "
            "it. Repeatable."
        ),
    ] = None,
    ask_witnesses: Annotated[
        bool,
        typer.Option(
            help="Fetch each configured witness's last cosigned checkpoint and hold the log to it"
        ),
    ] = False,
) -> None:
    """Check the hash chain, the Merkle tree and every signed checkpoint; report which witnesses
    cosigned which size; exit 1 at the first wrong entry, or a log cut back below a checkpoint."""
    from audit.verify import Trusted
    from audit.verify_database import verify_database
    from audit.verify_export import verify_export

    notes = [_read_text(path, "checkpoint note") for path in witnessed or []]
    verifiers = [_verifier(text) for text in witness or []]
    if export is not None:
        if keys is None:
            fail("--export needs --keys, the JWKS from GET /v1/audit/keys")
        trusted = Trusted(origin=origin, witnesses=verifiers, outside=notes)
        report = verify_export(export, _jwks(keys), progress=_verify_progress(), trusted=trusted)
    else:
        settings = cli_settings()
        engine = migrated_engine(settings, migrate_sqlite=False)
        jwks = cli_audit_keys(settings).jwks
        verifiers += [configured.verifier for configured in settings.audit_witnesses]
        if ask_witnesses:
            notes += _witnessed_checkpoints(settings)
        trusted = Trusted(
            origin=origin or settings.audit_origin, witnesses=verifiers, outside=notes
        )
        # A read transaction: writers go on while the log is verified.
        with read_transaction(make_sessionmaker(engine)) as session:
            report = verify_database(
                session=session, jwks=jwks, progress=_verify_progress(), trusted=trusted
            )
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


def _witnessed_checkpoints(settings: Settings) -> list[str]:
    """The last checkpoint each configured witness cosigned (tlog-witness monitoring)."""
    import httpx

    from audit.witness import origin_hash

    found = []
    for configured in settings.audit_witnesses:
        url = f"{configured.url}/{origin_hash(settings.audit_origin)}/checkpoint"
        try:
            answer = httpx.get(url, timeout=10)
        except httpx.HTTPError as error:
            fail(f"cannot ask witness {configured.url}: {error}")
        if answer.status_code == 404:
            continue  # it never cosigned this log
        if answer.status_code != 200:
            fail(f"witness {configured.url} answered {answer.status_code}")
        found.append(answer.text)
    return found


def _jwks(path: Path) -> dict[str, Any]:
    try:
        found: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        fail(f"cannot read the JWKS file {path}: {error}")
    return found


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read the {what} {path}: {error}")


def _verifier(vkey: str) -> Verifier:
    try:
        return Verifier.parse(vkey)
    except NoteError as error:
        fail(f"--witness: {error}")


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
        lines = write_export(
            session=session, out=file, clock=system_clock, origin=settings.audit_origin
        )
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
                session=session,
                signing_key=signing_key,
                clock=system_clock,
                origin=settings.audit_origin,
            )
    except EmptyLog as error:
        fail(str(error))
    typer.echo(
        f"checkpoint at seq {checkpoint.seq} ({checkpoint.entry_hash}), key {checkpoint.kid}"
    )


@audit_app.command("prove")
def audit_prove(
    seq: Annotated[int, typer.Option(min=1, help="The entry to prove")],
    out: Annotated[Path | None, typer.Option(help="Write the proof here (default: stdout)")] = None,
    tlog_proof: Annotated[
        bool, typer.Option(help="Write a C2SP tlog-proof instead of the JSON bundle")
    ] = False,
) -> None:
    """Prove that the log holds entry SEQ (RFC 9162 inclusion proof to a signed checkpoint);
    signs a checkpoint first when none covers the entry yet."""
    from audit.checkpoint import create_checkpoint
    from audit.errors import EntryNotFound, NotCheckpointed
    from audit.proofs import as_tlog_proof
    from audit.proving import inclusion_bundle

    settings = cli_settings()
    sessions = make_sessionmaker(migrated_engine(settings, migrate_sqlite=False))
    signing_key = cli_audit_keys(settings).signing_key
    try:
        with transaction(sessions) as session:
            try:
                bundle = inclusion_bundle(session, seq)
            except NotCheckpointed:
                create_checkpoint(
                    session=session, signing_key=signing_key, clock=system_clock,
                    origin=settings.audit_origin,
                )  # fmt: skip
                bundle = inclusion_bundle(session, seq)
    except EntryNotFound as error:
        fail(str(error))
    text = as_tlog_proof(bundle) if tlog_proof else bundle.model_dump_json(indent=2) + "\n"
    _write(text, out)


@audit_app.command("check-proof")
def audit_check_proof(
    proof: Annotated[Path, typer.Argument(help="A proof bundle (JSON) or a C2SP tlog-proof")],
    keys: KeysOption,
    origin: OriginOption = None,
    witness: WitnessOption = None,
) -> None:
    """Check an inclusion proof offline: the entry hashes as §2 says, its leaf is in the tree
    the checkpoint signs, and a key of the JWKS signed the checkpoint. Exit 1 if not."""
    from pydantic import ValidationError

    from audit.proofs import InclusionBundle, check_inclusion, from_tlog_proof

    text = _read_text(proof, "proof")
    try:
        if text.startswith("c2sp.org/tlog-proof@v1\n"):
            bundle = from_tlog_proof(text)
        else:
            bundle = InclusionBundle.model_validate_json(text)
    except (ValidationError, NoteError, ValueError) as error:
        fail(f"not a proof bundle: {str(error).splitlines()[0]}")
    verifiers = [_verifier(text) for text in witness or []]
    report = check_inclusion(bundle, _jwks(keys), origin=origin, witnesses=verifiers)
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("consistency")
def audit_consistency(
    old: Annotated[int, typer.Option("--from", min=0, help="The earlier checkpoint's tree size")],
    new: Annotated[int, typer.Option("--to", min=1, help="The later checkpoint's tree size")],
    out: Annotated[Path | None, typer.Option(help="Write the proof here (default: stdout)")] = None,
) -> None:
    """Prove that the tree checkpoint of TO entries extends the one of FROM entries."""
    from audit.errors import NoSuchCheckpoint
    from audit.proving import consistency_bundle

    settings = cli_settings()
    sessions = make_sessionmaker(migrated_engine(settings, migrate_sqlite=False))
    try:
        with read_transaction(sessions) as session:
            bundle = consistency_bundle(session, old, new)
    except NoSuchCheckpoint as error:
        fail(str(error))
    _write(bundle.model_dump_json(indent=2) + "\n", out)


@audit_app.command("check-consistency")
def audit_check_consistency(
    proof: Annotated[Path, typer.Argument(help="A consistency bundle (JSON)")],
    keys: KeysOption,
    kept: Annotated[
        Path | None, typer.Option(help="The checkpoint note you kept: the earlier one must be it")
    ] = None,
    origin: OriginOption = None,
    witness: WitnessOption = None,
) -> None:
    """Check offline that a later checkpoint's tree extends an earlier one's. Exit 1 if not."""
    from pydantic import ValidationError

    from audit.proofs import ConsistencyBundle, check_consistency

    try:
        bundle = ConsistencyBundle.model_validate_json(_read_text(proof, "proof"))
    except ValidationError as error:
        fail(f"not a consistency bundle: {str(error).splitlines()[0]}")
    report = check_consistency(
        bundle,
        _jwks(keys),
        kept=_read_text(kept, "checkpoint note") if kept is not None else None,
        origin=origin,
        witnesses=[_verifier(text) for text in witness or []],
    )
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)

"""``schakel witness init|serve``: a witness of Schakel audit logs, run by another organisation
apart from the gateway (C2SP tlog-witness). It needs no database: its state is a folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.keys import AuditSigningKey
from audit.note import NoteError, Verifier
from audit.tlog import cosigner
from gateway.auth.signing_key import generate_ed25519_pem
from gateway.cli.common import fail

witness_app = typer.Typer(help="Witness audit logs: cosign checkpoints that extend what was seen.")

NameOption = Annotated[
    str, typer.Option(help="The witness's name in its cosignatures, e.g. witness.example.org/w1")
]
KeyOption = Annotated[Path, typer.Option(help="The witness's Ed25519 private key (PEM)")]


@witness_app.command("init")
def init(name: NameOption, key: KeyOption) -> None:
    """Make a witness key and print the verifier key logs and verifiers configure for it."""
    if key.exists():
        fail(f"{key} exists: a witness keeps its key")
    key.parent.mkdir(parents=True, exist_ok=True)
    key.touch(mode=0o600)
    key.write_bytes(generate_ed25519_pem())
    typer.echo(_vkey(name, key))


@witness_app.command("vkey")
def vkey(name: NameOption, key: KeyOption) -> None:
    """Print the verifier key of the witness's cosignatures."""
    typer.echo(_vkey(name, key))


@witness_app.command("serve")
def serve(
    name: NameOption,
    key: KeyOption,
    log: Annotated[
        list[str],
        typer.Option(help="A log's note verifier key (GET /v1/audit/log: vkeys); repeatable"),
    ],
    state: Annotated[Path, typer.Option(help="Folder for the last checkpoint of each log")],
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind")] = 8380,
) -> None:
    """Serve add-checkpoint: cosign a checkpoint of a known log only when a consistency proof
    shows it extends the last one cosigned; refuse forks and rollbacks."""
    import uvicorn

    from audit.witness import Witness
    from gateway.audit_log.witness_app import create_witness_app

    logs: dict[str, list[Verifier]] = {}
    for text in log:
        try:
            verifier = Verifier.parse(text)
        except NoteError as error:
            fail(f"--log: {error}")
        logs.setdefault(verifier.name, []).append(verifier)
    witness = Witness(
        name=name,
        private_key=_private_key(key),
        logs=logs,
        state_dir=state,
        clock=lambda: datetime.now(UTC),
    )
    typer.echo(f"witness {witness.verifier.vkey} for {', '.join(sorted(logs))}", err=True)
    uvicorn.run(create_witness_app(witness), host=host, port=port, log_level="warning")


def _private_key(path: Path) -> Ed25519PrivateKey:
    from audit.errors import AuditKeyError

    try:
        return AuditSigningKey.from_pem(path.read_bytes()).private_key
    except (OSError, AuditKeyError) as error:
        fail(f"cannot read the witness key {path}: {error}")


def _vkey(name: str, key: Path) -> str:
    try:
        return cosigner(name, _private_key(key)).vkey
    except NoteError as error:
        fail(str(error))

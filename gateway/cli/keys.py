"""``schakel keys …`` and ``schakel client-assertion``: partner key pairs, the production keys,
the rotation of the token, receipt and session keys and of the key-encryption key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from gateway.auth.access_tokens import token_overlap
from gateway.auth.key_ring import new_session_key, rotate
from gateway.auth.partner_keys import (
    KEY_ALGORITHMS,
    generate_partner_key,
    read_private_key,
    sign_client_assertion,
    write_key_pair,
)
from gateway.auth.signing_key import SigningKeyError, generate_ed25519_pem
from gateway.cli.common import cli_settings, fail, migrated_engine
from gateway.core.clock import system_clock
from gateway.core.db import make_sessionmaker, transaction
from gateway.identity.keys import load_identity_keys
from gateway.storage.kek import KekError, load_kek, new_kek_text
from gateway.storage.service import rewrap_batch

keys_app = typer.Typer(help="Partner key pairs, production keys, KEK rotation.")


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


KEY_FILES = (
    "token-signing.pem", "audit-signing.pem", "receipt-signing.pem", "session.key",
    "identity.json", "kek.b64",
)  # fmt: skip


@keys_app.command("init")
def init_keys(
    out: Annotated[Path, typer.Option(help="Folder for the production keys (e.g. secrets)")],
) -> None:
    """Generate every key a production gateway needs, as the docker-compose secrets expect."""
    existing = [name for name in KEY_FILES if (out / name).exists()]
    if existing:
        fail(f"{', '.join(existing)} already in {out}; keys are never overwritten")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("token-signing.pem", "audit-signing.pem", "receipt-signing.pem"):
        _write_secret(out / name, generate_ed25519_pem())
    _write_secret(out / "session.key", new_session_key())
    load_identity_keys(out / "identity.json", create=True)
    _write_secret(out / "kek.b64", (new_kek_text() + "\n").encode())
    typer.echo(f"keys written to {out}: {', '.join(KEY_FILES)}; keep them secret and backed up")


def _write_secret(path: Path, content: bytes) -> None:
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(content)


def _key_files(setting: Path | None, retired: Path | None, name: str) -> tuple[Path, Path]:
    keys = cli_settings().data_dir / "keys"
    return setting or keys / f"{name}-signing.pem", retired or keys / f"{name}-retired.json"


@keys_app.command("rotate-token-key")
def rotate_token_key() -> None:
    """Sign access tokens with a new key; the old one stays published until its tokens expire.

    Gateways load keys at start: restart them one by one after this.
    """
    settings = cli_settings()
    if settings.token_signing_key is not None:
        fail("the token key is given as text (SCHAKEL_TOKEN_SIGNING_KEY); rotate it in your store")
    key_file, retired_file = _key_files(
        settings.token_signing_key_file, settings.token_retired_keys_file, "token"
    )
    old, new = _rotated(key_file, retired_file)
    overlap = token_overlap(settings)
    typer.echo(
        f"access tokens are signed by {new} now; {old} is published and accepted for "
        f"{int(overlap.total_seconds())} s more (restart the gateways to take the new key)"
    )


@keys_app.command("rotate-receipt-key")
def rotate_receipt_key() -> None:
    """Sign consent receipts with a new key; every retired key stays published, so receipts
    issued before still verify."""
    settings = cli_settings()
    key_file, retired_file = _key_files(
        settings.receipt_signing_key_file, settings.receipt_retired_keys_file, "receipt"
    )
    old, new = _rotated(key_file, retired_file)
    typer.echo(f"receipts are signed by {new} now; {old} is kept in {retired_file}")


@keys_app.command("rotate-session-key")
def rotate_session_key() -> None:
    """A new key for session cookies: every web session ends at its next request."""
    path = cli_settings().session_key_file or cli_settings().data_dir / "keys" / "session.key"
    if not path.exists():
        fail(f"no session key at {path}")
    path.unlink()
    _write_secret(path, new_session_key())
    typer.echo(f"new session key in {path}; restart the gateways, everyone signs in again")


def _rotated(key_file: Path, retired_file: Path) -> tuple[str, str]:
    if not key_file.is_file():
        fail(f"no key at {key_file}")
    try:
        return rotate(key_file, retired_file, system_clock())
    except (SigningKeyError, OSError, ValueError, KeyError) as error:
        fail(f"not rotated: {error}")


@keys_app.command("new-kek")
def new_kek(out: Annotated[Path, typer.Option(help="File for the new KEK (base64, 0600)")]) -> None:
    """Generate a key-encryption key for a rotation."""
    if out.exists():
        fail(f"{out} exists")
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_secret(out, (new_kek_text() + "\n").encode())
    typer.echo(f"new KEK written to {out}")


@keys_app.command("rotate-kek")
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

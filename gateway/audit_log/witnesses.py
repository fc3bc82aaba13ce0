"""The gateway asks its witnesses to cosign its newest tree checkpoint (C2SP tlog-witness) and
keeps the cosignatures they return, so the checkpoint is published with them.

No transaction stays open while a witness answers: the request is read in one (with the
consistency proof from the size the witness holds), the cosignature written in another. A
witness that holds another size answers 409 with it; the request is made again from there once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit.checkpoint import keep_cosignatures, latest_tree_checkpoint
from audit.models import AuditCosignature
from audit.note import Note, NoteError, Signature, parse_note
from audit.tlog import add_checkpoint_body, verify_cosignature
from audit.tree import consistency_proof
from gateway.core.db import read_transaction, transaction
from gateway.settings import AuditWitness

log = structlog.get_logger("gateway.audit_log.witnesses")


@dataclass(frozen=True)
class Ask:
    """What to send one witness: the checkpoint (signed by the log only) and from which size."""

    seq: int
    note: Note
    held: int


def publish(
    sessions: sessionmaker[Session], witnesses: Sequence[AuditWitness], http: httpx.Client
) -> int:
    """Ask each witness that has not cosigned the newest tree checkpoint to do so; returns the
    number of cosignatures kept. A witness that refuses or cannot be reached is logged."""
    kept = 0
    for witness in witnesses:
        name = witness.verifier.name
        with read_transaction(sessions) as session:
            ask = _ask(session, name)
        if ask is None:
            continue
        try:
            signature = _cosignature(sessions, witness, http, ask)
        except (httpx.HTTPError, NoteError, ValueError) as error:
            log.warning("witness did not cosign", witness=name, seq=ask.seq, error=str(error))
            continue
        if signature is None:
            continue
        line, timestamp = signature
        with transaction(sessions) as session:
            keep_cosignatures(session, ask.seq, [(line, timestamp)])
        kept += 1
    return kept


def _ask(session: Session, name: str) -> Ask | None:
    checkpoint = latest_tree_checkpoint(session)
    if checkpoint is None or checkpoint.note is None:
        return None
    held = session.scalar(
        select(func.max(AuditCosignature.seq)).where(AuditCosignature.witness == name)
    )
    if held is not None and held >= checkpoint.seq:
        return None  # cosigned already (or a larger tree: the check below reports it)
    return Ask(checkpoint.seq, parse_note(checkpoint.note), held or 0)


def _cosignature(
    sessions: sessionmaker[Session], witness: AuditWitness, http: httpx.Client, ask: Ask
) -> tuple[Signature, int] | None:
    held = ask.held
    for _ in range(2):
        with read_transaction(sessions) as session:
            proof = consistency_proof(session, held, ask.seq) if 0 < held < ask.seq else []
        body = add_checkpoint_body(held, proof, ask.note)
        answer = http.post(f"{witness.url}/add-checkpoint", content=body.encode())
        if answer.status_code == 409 and answer.text.strip().isdigit():
            held = int(answer.text.strip())
            if held > ask.seq:
                log.error(
                    "a witness holds a larger tree than the newest checkpoint: was the log cut "
                    "back?", witness=witness.vkey.split("+")[0], held=held, seq=ask.seq,
                )  # fmt: skip
                return None
            continue
        if answer.status_code != 200:
            log.warning(
                "witness refused the checkpoint", witness=witness.url, status=answer.status_code,
                reason=answer.text.strip()[:200], seq=ask.seq,
            )  # fmt: skip
            return None
        return _trusted_line(witness, ask.note, answer.text)
    return None


def _trusted_line(witness: AuditWitness, note: Note, answer: str) -> tuple[Signature, int] | None:
    """The witness's own cosignature among the lines it returned, once it verifies."""
    verifier = witness.verifier
    lines = tuple(Signature.parse(line) for line in answer.splitlines() if line.strip())
    mine = tuple(line for line in lines if line.name == verifier.name)
    timestamp = verify_cosignature(note.with_signatures(mine), verifier)
    if timestamp is None:
        raise NoteError("no cosignature of the configured witness key in the answer")
    return next(line for line in mine if line.key_id == verifier.key_id), timestamp

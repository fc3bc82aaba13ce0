"""A verifier written from docs/audit-format.md alone (§1-§7): hashlib, rfc8785, cryptography.

Nothing here imports the audit package, so a drift between the code and the document shows.
It reads an export the plain way (every line parsed by the standard library) and says where the
log first goes wrong, as §7 orders the checks; the tests hold ``schakel audit verify`` to it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MEMBERS = {
    "seq": "integer",
    "recorded_at": "timestamp",
    "trace_id": "text?",
    "actor_party": "text",
    "actor_domain": "text",
    "action": "text",
    "subject_ref": "text?",
    "purpose": "text?",
    "categories": "texts",
    "consent_ids": "texts",
    "decision_id": "text?",
    "policy_revision": "text?",
    "outcome": "outcome",
    "reason": "text?",
    "payload_digest": "digest?",
    "prev_hash": "digest",
    "entry_hash": "digest",
}
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
DIGEST = re.compile(r"[0-9a-f]{64}")
CHECKPOINT_MEMBERS = {"seq", "entry_hash", "recorded_at", "signed_at", "kid", "signature"}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    first_bad_seq: int | None
    problem: str | None = None


class Bad(Exception):
    def __init__(self, seq: int | None, problem: str) -> None:
        super().__init__(problem)
        self.seq, self.problem = seq, problem


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _form_ok(form: str, value: Any) -> bool:
    if form.endswith("?"):
        if value is None:
            return True
        form = form[:-1]
    if form == "integer":
        return type(value) is int
    if form == "texts":
        return (
            type(value) is list
            and all(type(item) is str for item in value)
            and value == sorted(set(value))
        )
    if form == "outcome":
        return value in ("allow", "deny", "ok", "error")
    if type(value) is not str:
        return False
    if form == "timestamp":
        return bool(TIMESTAMP.fullmatch(value))
    if form == "digest":
        return bool(DIGEST.fullmatch(value))
    return True


def entry_hash(entry: dict[str, Any]) -> str:
    """§2: SHA-256 over the raw previous hash and the JCS of the entry without entry_hash."""
    hashed = {name: value for name, value in entry.items() if name != "entry_hash"}
    return hashlib.sha256(bytes.fromhex(entry["prev_hash"]) + rfc8785.dumps(hashed)).hexdigest()


def _check_checkpoint(
    checkpoint: Any, entry: dict[str, Any], keys: dict[str, Ed25519PublicKey]
) -> None:
    seq = entry["seq"]
    key = keys.get(checkpoint["kid"])
    if key is None:
        raise Bad(seq, "unknown key")
    message = rfc8785.dumps(
        {
            "format": "schakel-audit-checkpoint/1",
            "seq": checkpoint["seq"],
            "entry_hash": checkpoint["entry_hash"],
            "recorded_at": checkpoint["recorded_at"],
        }
    )
    try:
        key.verify(_b64url(checkpoint["signature"]), message)
    except (InvalidSignature, ValueError):
        raise Bad(seq, "bad signature") from None
    if (checkpoint["entry_hash"], checkpoint["recorded_at"]) != (
        entry["entry_hash"],
        entry["recorded_at"],
    ):
        raise Bad(seq, "checkpoint does not match its entry")


def verify(entries: list[Any], checkpoints: list[Any], jwks: dict[str, Any]) -> Verdict:
    """§7 over parsed entries and checkpoints; the first problem, in the document's order."""
    keys = {
        key["kid"]: Ed25519PublicKey.from_public_bytes(_b64url(key["x"])) for key in jwks["keys"]
    }
    by_seq: dict[int, list[Any]] = {}
    for checkpoint in checkpoints:
        seq = checkpoint.get("seq") if isinstance(checkpoint, dict) else None
        if (
            not isinstance(checkpoint, dict)
            or set(checkpoint) != CHECKPOINT_MEMBERS
            or type(seq) is not int
            or seq < 1
            or not all(type(checkpoint[name]) is str for name in CHECKPOINT_MEMBERS - {"seq"})
        ):
            return Verdict(False, seq if type(seq) is int and seq >= 1 else None, "checkpoint")
        by_seq.setdefault(seq, []).append(checkpoint)
    previous: dict[str, Any] | None = None
    try:
        for entry in entries:
            expected = 1 if previous is None else previous["seq"] + 1
            if not isinstance(entry, dict) or set(entry) != set(MEMBERS):
                raise Bad(expected, "members")
            if not all(_form_ok(form, entry[name]) for name, form in MEMBERS.items()):
                raise Bad(expected, "forms")
            if entry["seq"] != expected:
                raise Bad(expected, "seq")
            if entry["prev_hash"] != ("0" * 64 if previous is None else previous["entry_hash"]):
                raise Bad(expected, "prev_hash")
            if previous is not None and entry["recorded_at"] < previous["recorded_at"]:
                raise Bad(expected, "recorded_at")
            if entry_hash(entry) != entry["entry_hash"]:
                raise Bad(expected, "entry_hash")
            for checkpoint in by_seq.pop(entry["seq"], []):
                _check_checkpoint(checkpoint, entry, keys)
            previous = entry
        last = 0 if previous is None else previous["seq"]
        if by_seq:
            raise Bad(last + 1, "a checkpoint past the end: entries cut off")
    except Bad as bad:
        return Verdict(False, bad.seq, bad.problem)
    return Verdict(True, None)


def verify_file(path: Path, jwks: dict[str, Any]) -> Verdict:
    """§6: an export file, every line parsed; a malformed file names no seq."""
    entries: list[Any] = []
    checkpoints: list[Any] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                return Verdict(False, None, f"line {number} is not JSON")
            if not isinstance(record, dict) or len(record) != 1:
                return Verdict(False, None, f"line {number}")
            ((kind, document),) = record.items()
            if kind == "header":
                if number != 1 or not isinstance(document, dict):
                    return Verdict(False, None, "header")
                if document.get("format") != "schakel-audit-export/1":
                    return Verdict(False, None, "header")
            elif kind == "entry":
                entries.append(document)
            elif kind == "checkpoint":
                checkpoints.append(document)
            else:
                return Verdict(False, None, f"line {number}: unknown record")
            if number == 1 and kind != "header":
                return Verdict(False, None, "no header")
    if not entries and not checkpoints:
        return Verdict(True, None)
    return verify(entries, checkpoints, jwks)

"""A verifier written from docs/audit-format.md alone: hashlib, rfc8785, cryptography.

Nothing here imports the audit package, so a drift between the code and the document shows.
It reads an export the plain way (every line parsed by the standard library) and says where the
log first goes wrong, as §8 orders the checks, version 1 and 2 entries and checkpoints alike;
the tests hold ``schakel audit verify`` to it.
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

MEMBERS_V1 = {
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
MEMBERS_V2 = {**MEMBERS_V1, "actor_user": "text?"}
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
DIGEST = re.compile(r"[0-9a-f]{64}")
CHECKPOINT_MEMBERS = {"seq", "entry_hash", "recorded_at", "signed_at", "kid", "signature"}
TREE_CHECKPOINT_MEMBERS = {"seq", "signed_at", "note"}
EXPORT_FORMATS = ("schakel-audit-export/1", "schakel-audit-export/2")


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


def _tree_root(leaves: list[bytes]) -> bytes:
    """§5: RFC 9162 §2.1's tree hash over the entries' leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _tree_root(leaves[:k]) + _tree_root(leaves[k:])).digest()


def _check_note(
    note: str, seq: int, root: bytes, keys: dict[str, Ed25519PublicKey], origin: list[str]
) -> None:
    """§4.2: a C2SP signed note whose text is origin, tree size and root hash, signed by a key of
    the JWKS under the origin as key name (key ID as signed-note says)."""
    at = note.rfind("\n\n")
    if at < 0 or not note.endswith("\n"):
        raise Bad(seq, "note")
    text, lines = note[: at + 1], note[at + 2 :].splitlines()
    parts = text.split("\n")
    if len(parts) != 4 or parts[3] != "" or not re.fullmatch(r"0|[1-9][0-9]*", parts[1]):
        raise Bad(seq, "checkpoint text")
    if origin and parts[0] != origin[0]:
        raise Bad(seq, "another log")
    origin[:] = [parts[0]]
    signed = False
    for line in lines:
        if not line.startswith("\u2014 "):
            raise Bad(seq, "signature line")
        name, _, blob = line[2:].partition(" ")
        raw = base64.b64decode(blob)
        for key in keys.values():
            public = key.public_bytes_raw()
            key_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
            if name == parts[0] and raw[:4] == key_id:
                try:
                    key.verify(raw[4:], text.encode())
                except InvalidSignature:
                    raise Bad(seq, "bad note signature") from None
                signed = True
    if not signed:
        raise Bad(seq, "no known key signed the note")
    if int(parts[1]) != seq:
        raise Bad(seq, "tree size")
    if base64.b64decode(parts[2]) != root:
        raise Bad(seq, "root hash")


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


def verify(
    entries: list[Any], checkpoints: list[Any], jwks: dict[str, Any], origin: str | None = None
) -> Verdict:
    """§8 over parsed entries and checkpoints; the first problem, in the document's order."""
    keys = {
        key["kid"]: Ed25519PublicKey.from_public_bytes(_b64url(key["x"])) for key in jwks["keys"]
    }
    by_seq: dict[int, list[Any]] = {}
    for checkpoint in checkpoints:
        seq = checkpoint.get("seq") if isinstance(checkpoint, dict) else None
        members = TREE_CHECKPOINT_MEMBERS if "note" in checkpoint else CHECKPOINT_MEMBERS
        if (
            not isinstance(checkpoint, dict)
            or set(checkpoint) != members
            or type(seq) is not int
            or seq < 1
            or not all(type(checkpoint[name]) is str for name in members - {"seq"})
        ):
            return Verdict(False, seq if type(seq) is int and seq >= 1 else None, "checkpoint")
        by_seq.setdefault(seq, []).append(checkpoint)
    previous: dict[str, Any] | None = None
    leaves: list[bytes] = []
    origins = [origin] if origin else []
    try:
        for entry in entries:
            expected = 1 if previous is None else previous["seq"] + 1
            if not isinstance(entry, dict) or set(entry) not in (set(MEMBERS_V1), set(MEMBERS_V2)):
                raise Bad(expected, "members")
            members = MEMBERS_V2 if "actor_user" in entry else MEMBERS_V1
            if not all(_form_ok(form, entry[name]) for name, form in members.items()):
                raise Bad(expected, "forms")
            if previous is not None and "actor_user" in previous and "actor_user" not in entry:
                raise Bad(expected, "a version 1 entry after a version 2 one")
            if entry["seq"] != expected:
                raise Bad(expected, "seq")
            if entry["prev_hash"] != ("0" * 64 if previous is None else previous["entry_hash"]):
                raise Bad(expected, "prev_hash")
            if previous is not None and entry["recorded_at"] < previous["recorded_at"]:
                raise Bad(expected, "recorded_at")
            if entry_hash(entry) != entry["entry_hash"]:
                raise Bad(expected, "entry_hash")
            leaves.append(hashlib.sha256(b"\x00" + bytes.fromhex(entry["entry_hash"])).digest())
            for checkpoint in by_seq.pop(entry["seq"], []):
                if "note" in checkpoint:
                    _check_note(checkpoint["note"], entry["seq"], _tree_root(leaves), keys, origins)
                else:
                    _check_checkpoint(checkpoint, entry, keys)
            previous = entry
        last = 0 if previous is None else previous["seq"]
        if by_seq:
            raise Bad(last + 1, "a checkpoint past the end: entries cut off")
    except Bad as bad:
        return Verdict(False, bad.seq, bad.problem)
    return Verdict(True, None)


def verify_file(path: Path, jwks: dict[str, Any]) -> Verdict:
    """§7: an export file, every line parsed; a malformed file names no seq."""
    entries: list[Any] = []
    checkpoints: list[Any] = []
    origin: str | None = None
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
                if document.get("format") not in EXPORT_FORMATS:
                    return Verdict(False, None, "header")
                origin = document.get("origin")
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
    return verify(entries, checkpoints, jwks, origin)

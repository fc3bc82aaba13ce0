"""An independent verifier written from docs/audit-format.md alone: hashlib, rfc8785, cryptography.

Nothing here imports the audit package, so a drift between the code and the document shows.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "audit"
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "audit-format.md"


def _records(name: str) -> list[dict[str, Any]]:
    lines = (VECTORS / name).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_every_entry_hash_follows_the_written_rule() -> None:
    entries = [r["entry"] for r in _records("valid.ndjson") if "entry" in r]
    prev = "0" * 64
    for entry in entries:
        hashed = {name: value for name, value in entry.items() if name != "entry_hash"}
        assert entry["prev_hash"] == prev
        digest = hashlib.sha256(bytes.fromhex(entry["prev_hash"]) + rfc8785.dumps(hashed))
        assert digest.hexdigest() == entry["entry_hash"]
        prev = entry["entry_hash"]


def test_every_checkpoint_signature_follows_the_written_rule() -> None:
    records = _records("valid.ndjson")
    entries = {r["entry"]["seq"]: r["entry"] for r in records if "entry" in r}
    keys = {
        key["kid"]: Ed25519PublicKey.from_public_bytes(_b64url(key["x"]))
        for key in json.loads((VECTORS / "jwks.json").read_text("utf-8"))["keys"]
    }
    checkpoints = [r["checkpoint"] for r in records if "checkpoint" in r]
    assert checkpoints
    for checkpoint in checkpoints:
        message = rfc8785.dumps(
            {
                "format": "schakel-audit-checkpoint/1",
                "seq": checkpoint["seq"],
                "entry_hash": checkpoint["entry_hash"],
                "recorded_at": checkpoint["recorded_at"],
            }
        )
        keys[checkpoint["kid"]].verify(_b64url(checkpoint["signature"]), message)
        assert checkpoint["entry_hash"] == entries[checkpoint["seq"]]["entry_hash"]


def test_kid_is_the_rfc7638_thumbprint() -> None:
    for key in json.loads((VECTORS / "jwks.json").read_text("utf-8"))["keys"]:
        members = json.dumps(
            {"crv": key["crv"], "kty": key["kty"], "x": key["x"]}, separators=(",", ":")
        )
        digest = hashlib.sha256(members.encode()).digest()
        assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == key["kid"]


def test_the_document_states_the_worked_example() -> None:
    """The first entry's hash in docs/audit-format.md is the one the vectors carry."""
    first = next(r["entry"] for r in _records("valid.ndjson") if "entry" in r)
    text = DOCUMENT.read_text("utf-8")
    assert first["entry_hash"] in text
    assert rfc8785.dumps({k: v for k, v in first.items() if k != "entry_hash"}).decode() in text


def test_the_document_states_the_version_2_worked_example() -> None:
    """§11's leaf hashes, roots, note and proofs are those of the version 2 vectors."""
    text = DOCUMENT.read_text("utf-8")
    records = _records("v2/valid.ndjson")
    entries = [r["entry"] for r in records if "entry" in r]
    leaves = [hashlib.sha256(b"\x00" + bytes.fromhex(e["entry_hash"])).digest() for e in entries]
    for seq, leaf in enumerate(leaves, start=1):
        assert f"{seq} {leaf.hex()}" in text
    note = next(r["checkpoint"]["note"] for r in records if r.get("checkpoint", {}).get("seq") == 5)
    assert all(line in text for line in note.splitlines())
    proofs = json.loads((VECTORS / "v2" / "proofs.json").read_text("utf-8"))
    for node in proofs["inclusion"][1]["bundle"]["inclusion_path"]:
        assert node in text
    for node in proofs["consistency"][0]["bundle"]["proof"]:
        assert node in text

"""A separate RFC 9162 verifier, written from docs/audit-format.md §4.2, §5 and §9 alone (RFC 9162
§2.1.3.2 and §2.1.4.2, C2SP signed-note), with hashlib, rfc8785 and an Ed25519 library: it
imports nothing of the audit package, so the tests can hold proofs fetched over the API, and
the published proof vectors, to the document rather than to the code.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def rfc9162_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, step by step."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn // 2, sn // 2
        else:
            r = _node(r, p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def rfc9162_consistency(first: int, second: int, h1: bytes, h2: bytes, path: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, step by step (first < second)."""
    if not path:
        return False
    if first & (first - 1) == 0:
        path = [h1, *path]
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn // 2, sn // 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            sr = _node(sr, c)
        fn, sn = fn // 2, sn // 2
    return fr == h1 and sr == h2 and sn == 0


def read_checkpoint(note: str, jwks: dict[str, Any], origin: str) -> tuple[int, bytes]:
    """§4.2: the note's text is origin, size, base64 root; a JWKS key signed it under the origin."""
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    lines = text.split("\n")
    assert lines[0] == origin and len(lines) == 4
    keys = [base64.urlsafe_b64decode(key["x"] + "=") for key in jwks["keys"]]
    signed = False
    for line in signatures.splitlines():
        name, blob = line.removeprefix("\u2014 ").split(" ")
        raw = base64.b64decode(blob)
        for key in keys:
            key_id = hashlib.sha256(name.encode() + b"\n\x01" + key).digest()[:4]
            if name == origin and raw[:4] == key_id:
                Ed25519PublicKey.from_public_bytes(key).verify(raw[4:], text.encode())
                signed = True
    assert signed
    return int(lines[1]), base64.b64decode(lines[2])


def entry_leaf(entry: dict[str, Any]) -> bytes:
    """§5: the leaf is the 32 bytes of entry_hash; its hash has 0x00 in front."""
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry["entry_hash"])).digest()


def entry_hash(entry: dict[str, Any]) -> str:
    """§2: SHA-256 over the previous hash's bytes and the JCS of the entry without entry_hash."""
    hashed = {name: value for name, value in entry.items() if name != "entry_hash"}
    return hashlib.sha256(bytes.fromhex(entry["prev_hash"]) + rfc8785.dumps(hashed)).hexdigest()


def inclusion_holds(bundle: dict[str, Any], jwks: dict[str, Any], origin: str) -> bool:
    """§9: the entry hashes as §2 says, its leaf's path leads to the root of a checkpoint this
    log's key signed, for the tree size the bundle names."""
    entry = bundle["entry"]
    if entry_hash(entry) != entry["entry_hash"] or bundle["index"] != entry["seq"] - 1:
        return False
    try:
        size, root = read_checkpoint(bundle["checkpoint"], jwks, origin)
    except (AssertionError, InvalidSignature, ValueError):
        return False
    path = [bytes.fromhex(node) for node in bundle["inclusion_path"]]
    return size == bundle["tree_size"] and rfc9162_inclusion(
        bundle["index"], size, entry_leaf(entry), path, root
    )


def consistency_holds(bundle: dict[str, Any], jwks: dict[str, Any], origin: str) -> bool:
    """§9: both checkpoints are this log's, and the proof leads from the old root to the new."""
    try:
        old_size, old_root = read_checkpoint(bundle["old_checkpoint"], jwks, origin)
        new_size, new_root = read_checkpoint(bundle["new_checkpoint"], jwks, origin)
    except (AssertionError, InvalidSignature, ValueError):
        return False
    path = [bytes.fromhex(node) for node in bundle["proof"]]
    return (old_size, new_size) == (bundle["old_size"], bundle["new_size"]) and rfc9162_consistency(
        old_size, new_size, old_root, new_root, path
    )

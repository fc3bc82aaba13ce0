"""The version 2 vectors (docs/audit-format.md §4.2, §5, §9): an export with tree checkpoints,
tampered ones, and proof bundles with their verdicts. Written by tests/vectors/audit/generate.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.chain import EXPORT_FORMAT
from audit.keys import AuditSigningKey
from audit.merkle import (
    consistency_spans,
    inclusion_spans,
    leaf_hash,
    root_from_leaves,
    span_hashes,
    span_nodes,
)
from tests.audit.builder import build_entries, sign_checkpoint, sign_tree_checkpoint
from tests.audit.tamper import rehash

HERE = Path(__file__).resolve().parent
ORIGIN = "vectors.schakel.example/audit"
SIGNED_AT = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
# Another key, for checkpoints the log's key did not sign (a published test value too).
OTHER = AuditSigningKey.from_private_key(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
Write = Callable[..., None]


def _export(entries: list[dict[str, Any]], checkpoints: list[dict[str, Any]]) -> str:
    """As `schakel audit export` writes it: header with the origin, JCS entries, checkpoints."""
    header = {
        "format": EXPORT_FORMAT,
        "exported_at": "2026-11-24T12:00:00.000000Z",
        "origin": ORIGIN,
    }
    text = json.dumps({"header": header}, separators=(",", ":")) + "\n"
    text += "".join('{"entry":' + rfc8785.dumps(entry).decode() + "}\n" for entry in entries)
    return text + "".join(
        json.dumps({"checkpoint": c}, ensure_ascii=False, separators=(",", ":")) + "\n"
        for c in checkpoints
    )


def _tree(entries: list[dict[str, Any]], size: int, key: AuditSigningKey) -> dict[str, Any]:
    return sign_tree_checkpoint(entries, size, key, origin=ORIGIN, signed_at=SIGNED_AT)


def _spans_hashes(entries: list[dict[str, Any]], spans: list[tuple[int, int]]) -> list[str]:
    leaves = [leaf_hash(bytes.fromhex(entry["entry_hash"])) for entry in entries]
    nodes = {
        (level, index): root_from_leaves(leaves[index << level : (index + 1) << level])
        for level, index in span_nodes(spans)
    }
    return [node.hex() for node in span_hashes(spans, nodes)]


def version_2(write: Write) -> None:
    """Write v2/*.ndjson (cases) and v2/proofs.json."""
    from tests.vectors.audit.generate import DRAFTS, KEY

    drafts = [
        draft.model_copy(update={"actor_user": "uwv-medewerker-0042"}) if i == 1 else draft
        for i, draft in enumerate(DRAFTS)
    ]
    entries = build_entries(drafts)
    checkpoints = [_tree(entries, 3, KEY), _tree(entries, 5, KEY)]
    write("v2/valid.ndjson", _export(entries, checkpoints), ok=True, first_bad_seq=None,
          what="none: version 2 entries and tree checkpoints at 3 and 5")  # fmt: skip
    changed = [dict(entry) for entry in entries]
    changed[1]["actor_user"] = "uwv-medewerker-0043"
    write("v2/changed-resealed.ndjson", _export(rehash(changed, 1), checkpoints), ok=False,
          first_bad_seq=3,
          what="entry 2 names another professional, every later hash recomputed; the tree "
          "checkpoint at 3 has another root")  # fmt: skip
    write("v2/cut-tail.ndjson", _export(entries[:3], checkpoints), ok=False, first_bad_seq=4,
          what="entries 4 and 5 removed; the tree checkpoint at 5 remains")  # fmt: skip
    forged = {**checkpoints[1], "note": checkpoints[1]["note"].replace("\n5\n", "\n4\n", 1)}
    write("v2/forged-note.ndjson", _export(entries, [checkpoints[0], forged]), ok=False,
          first_bad_seq=5, what="the note of the checkpoint at 5 altered after signing")  # fmt: skip
    write("v2/other-key.ndjson", _export(entries, [checkpoints[0], _tree(entries, 5, OTHER)]),
          ok=False, first_bad_seq=5,
          what="the tree checkpoint at 5 signed by a key the JWKS does not hold")  # fmt: skip
    older = [dict(entry) for entry in entries]
    del older[3]["actor_user"]
    write("v2/version-back.ndjson", _export(rehash(older, 3), checkpoints[:1]), ok=False,
          first_bad_seq=4,
          what="entry 4 written as version 1 after version 2 entries, hashed again")  # fmt: skip
    mixed = [*build_entries(DRAFTS[:2], version=1)]
    mixed += build_entries(DRAFTS, version=2)[2:]
    mixed = rehash(mixed, 2)
    write("v2/mixed-versions.ndjson",
          _export(mixed, [sign_checkpoint(mixed[1], KEY, signed_at=SIGNED_AT), _tree(mixed, 5, KEY)]),
          ok=True, first_bad_seq=None,
          what="none: entries 1-2 of version 1 with a version 1 checkpoint, 3-5 of version 2 "
          "with a tree checkpoint at 5")  # fmt: skip
    _proofs(entries, checkpoints, KEY)


def _proofs(
    entries: list[dict[str, Any]], checkpoints: list[dict[str, Any]], key: AuditSigningKey
) -> None:
    note3, note5 = checkpoints[0]["note"], checkpoints[1]["note"]
    inclusion = [
        {
            "ok": True,
            "tampering": "none",
            "bundle": {
                "format": "schakel-audit-inclusion/2",
                "entry": entry,
                "index": entry["seq"] - 1,
                "tree_size": 5,
                "inclusion_path": _spans_hashes(entries, inclusion_spans(entry["seq"] - 1, 5)),
                "checkpoint": note5,
            },
        }
        for entry in entries
    ]
    good = inclusion[1]["bundle"]
    wrong: list[tuple[str, dict[str, Any]]] = [
        ("the entry changed", {"entry": {**good["entry"], "reason": "changed"}}),
        (
            "a node of the path changed",
            {"inclusion_path": ["00" * 32, *good["inclusion_path"][1:]]},
        ),
        ("the path of another entry", {"inclusion_path": inclusion[2]["bundle"]["inclusion_path"]}),
        ("the checkpoint of another key", {"checkpoint": _tree(entries, 5, OTHER)["note"]}),
        ("the checkpoint of a smaller tree", {"checkpoint": note3}),
        ("a tree size the checkpoint does not sign", {"tree_size": 4}),
    ]
    inclusion += [
        {"ok": False, "tampering": what, "bundle": {**good, **change}} for what, change in wrong
    ]
    consistency_good = {
        "format": "schakel-audit-consistency/2",
        "old_size": 3,
        "new_size": 5,
        "proof": _spans_hashes(entries, consistency_spans(3, 5)),
        "old_checkpoint": note3,
        "new_checkpoint": note5,
    }
    consistency = [{"ok": True, "tampering": "none", "bundle": consistency_good}]
    consistency += [
        {"ok": False, "tampering": what, "bundle": {**consistency_good, **change}}
        for what, change in [
            ("a node of the proof changed", {"proof": ["00" * 32, *consistency_good["proof"][1:]]}),
            ("the old checkpoint of another key", {"old_checkpoint": _tree(entries, 3, OTHER)["note"]}),
            ("a fork: the new tree does not extend the old",
             {"new_checkpoint": _tree(rehash([*entries[:2], {**entries[2], "reason": "x"}, *entries[3:]], 2), 5, key)["note"]}),
        ]
    ]  # fmt: skip
    document = {
        "origin": ORIGIN,
        "keys": "../jwks.json",
        "inclusion": inclusion,
        "consistency": consistency,
    }
    (HERE / "v2" / "proofs.json").write_text(
        json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )

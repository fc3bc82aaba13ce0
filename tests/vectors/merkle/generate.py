"""Regenerate tests/vectors/merkle/: `.venv/bin/python -m tests.vectors.merkle.generate`.

RFC 9162 §2.1 trees over the leaf inputs of github.com/transparency-dev/merkle's testonly
package (so the vectors can be checked against that module's own data): the root of every
size, and every inclusion and consistency proof up to eight leaves. Hashes in hex.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.merkle import (
    consistency_spans,
    inclusion_spans,
    leaf_hash,
    root_from_leaves,
    span_hashes,
    span_nodes,
)

HERE = Path(__file__).resolve().parent
LEAVES = [
    bytes.fromhex(text)
    for text in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                 "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip


def _proof(spans: list[tuple[int, int]]) -> list[str]:
    hashes = [leaf_hash(leaf) for leaf in LEAVES]
    nodes = {
        (level, index): root_from_leaves(hashes[index << level : (index + 1) << level])
        for level, index in span_nodes(spans)
    }
    return [node.hex() for node in span_hashes(spans, nodes)]


def main() -> None:
    hashes = [leaf_hash(leaf) for leaf in LEAVES]
    document: dict[str, Any] = {
        "about": "RFC 9162 §2.1: leaf hash SHA-256(0x00 || leaf), node SHA-256(0x01 || l || r)",
        "leaves": [leaf.hex() for leaf in LEAVES],
        "leaf_hashes": [leaf.hex() for leaf in hashes],
        "roots": [root_from_leaves(hashes[:size]).hex() for size in range(len(LEAVES) + 1)],
        "inclusion": [
            {"index": index, "size": size, "proof": _proof(inclusion_spans(index, size))}
            for size in range(1, len(LEAVES) + 1)
            for index in range(size)
        ],
        "consistency": [
            {"old": old, "new": new, "proof": _proof(consistency_spans(old, new))}
            for new in range(len(LEAVES) + 1)
            for old in range(new + 1)
        ],
    }
    (HERE / "rfc9162.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""The tree, inclusion and consistency proofs agree with github.com/transparency-dev/merkle.

scripts/merkle-reference.sh builds tests/merkle_reference (v0.0.2 of the module, from the Go
module proxy) into .tools/bin once; the test asks it for the root of every tree size, every
inclusion proof and every consistency proof over the same leaves, and for its verdict on
proofs made wrong on purpose. In CI a missing Go toolchain is an error, not a skip.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_spans,
    inclusion_spans,
    leaf_hash,
    root_from_leaves,
    span_hashes,
    span_nodes,
    verify_consistency,
    verify_inclusion,
)
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "merkle" / "rfc9162.json"
# Leaves as the log has them (32-byte entry hashes) and some of other lengths, the empty one too.
LEAVES = (
    [hashlib.sha256(str(i).encode()).digest() for i in range(40)]
    + [
        b"",
        b"\x00",
        b"\x01" * 7,
        bytes(range(64)),
    ]
    + [hashlib.sha256(b"more" + bytes([i])).digest() for i in range(26)]
)


@cache
def _reference_program() -> str:
    if shutil.which("go") is None:
        message = "the Go toolchain builds the reference Merkle tree (scripts/provision.sh)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    built = subprocess.run(
        [str(ROOT / "scripts" / "merkle-reference.sh")], capture_output=True, text=True, check=True
    )
    return built.stdout.strip()


def _ask(leaves: list[bytes], **checks: Any) -> dict[str, Any]:
    request = json.dumps({"leaves": [leaf.hex() for leaf in leaves], **checks})
    answer = subprocess.run(
        [_reference_program()], input=request, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(answer.stdout)
    return result


def _nodes(leaves: list[bytes], spans: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    hashes = [leaf_hash(leaf) for leaf in leaves]
    return {
        (level, index): root_from_leaves(hashes[index << level : (index + 1) << level])
        for level, index in span_nodes(spans)
    }


def _inclusion(leaves: list[bytes], index: int, size: int) -> list[bytes]:
    spans = inclusion_spans(index, size)
    return span_hashes(spans, _nodes(leaves, spans))


def _consistency(leaves: list[bytes], old: int, new: int) -> list[bytes]:
    spans = consistency_spans(old, new)
    return span_hashes(spans, _nodes(leaves, spans))


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return _ask(LEAVES)


def test_roots_of_every_size_agree(reference: dict[str, Any]) -> None:
    compact = CompactRange()
    assert compact.root().hex() == reference["roots"][0] == EMPTY_ROOT.hex()
    for size, leaf in enumerate(LEAVES, start=1):
        compact.append(leaf_hash(leaf))
        assert compact.root().hex() == reference["roots"][size]
        assert (
            root_from_leaves([leaf_hash(x) for x in LEAVES[:size]]).hex()
            == reference["roots"][size]
        )


def test_every_inclusion_proof_agrees(reference: dict[str, Any]) -> None:
    for size in range(1, len(LEAVES) + 1):
        for index in range(size):
            ours = [node.hex() for node in _inclusion(LEAVES, index, size)]
            assert ours == reference["inclusion"][size][index], (index, size)


def test_every_consistency_proof_agrees(reference: dict[str, Any]) -> None:
    for old in range(len(LEAVES) + 1):
        for new in range(old, len(LEAVES) + 1):
            ours = [node.hex() for node in _consistency(LEAVES, old, new)]
            assert ours == reference["consistency"][old][new], (old, new)


def test_the_modules_own_test_data(reference: dict[str, Any]) -> None:
    """testonly.LeafInputs and RootHashes, the module's published expectations."""
    module = reference["module"]
    inputs = [bytes.fromhex(leaf) for leaf in module["leaf_inputs"]]
    for size, root in enumerate(module["root_hashes"]):
        assert root_from_leaves([leaf_hash(leaf) for leaf in inputs[:size]]).hex() == root
    assert EMPTY_ROOT.hex() == module["empty_root"]


def _wrongs(proof: list[str]) -> list[list[str]]:
    """The proof made wrong in the ways a careless or hostile server could."""
    flipped = [("0" if node[0] != "0" else "1") + node[1:] for node in proof]
    return [
        [*proof, proof[0]] if proof else [EMPTY_ROOT.hex()],
        proof[:-1],
        flipped,
        proof[::-1],
    ]


def _ours(check: dict[str, Any], kind: str) -> bool:
    proof = [bytes.fromhex(node) for node in check["proof"]]
    try:
        if kind == "inclusion":
            verify_inclusion(
                check["index"], check["size"], bytes.fromhex(check["leaf_hash"]), proof,
                bytes.fromhex(check["root"]),
            )  # fmt: skip
        else:
            verify_consistency(
                check["old"], check["new"], bytes.fromhex(check["old_root"]),
                bytes.fromhex(check["new_root"]), proof,
            )  # fmt: skip
    except ProofError:
        return False
    return True


def test_verdicts_on_good_and_wrong_proofs_agree(reference: dict[str, Any]) -> None:
    inclusions, consistencies = [], []
    for size in range(1, 20):
        for index in range(size):
            good = reference["inclusion"][size][index]
            for proof, shift in [(good, 0), *((wrong, 0) for wrong in _wrongs(good)), (good, 1)]:
                inclusions.append(
                    {"index": (index + shift) % size, "size": size, "proof": proof,
                     "leaf_hash": leaf_hash(LEAVES[index]).hex(), "root": reference["roots"][size]}
                )  # fmt: skip
    for old in range(0, 20):
        for new in range(old, 20):
            good = reference["consistency"][old][new]
            for proof in [good, *_wrongs(good)]:
                consistencies.append(
                    {"old": old, "new": new, "proof": proof,
                     "old_root": reference["roots"][old], "new_root": reference["roots"][new]}
                )  # fmt: skip
    verdicts = _ask(LEAVES[:20], verify_inclusion=inclusions, verify_consistency=consistencies)
    assert [_ours(check, "inclusion") for check in inclusions] == verdicts["inclusion_verdicts"]
    assert [_ours(c, "consistency") for c in consistencies] == verdicts["consistency_verdicts"]
    assert sum(verdicts["inclusion_verdicts"]) >= 190  # the good ones


def test_the_published_vectors_agree_with_the_reference() -> None:
    """tests/vectors/merkle/rfc9162.json holds what both implementations give."""
    vectors = json.loads(VECTORS.read_text("utf-8"))
    leaves = [bytes.fromhex(leaf) for leaf in vectors["leaves"]]
    reference = _ask(leaves)
    assert vectors["roots"] == reference["roots"]
    for case in vectors["inclusion"]:
        assert case["proof"] == reference["inclusion"][case["size"]][case["index"]]
        assert [n.hex() for n in _inclusion(leaves, case["index"], case["size"])] == case["proof"]
    for case in vectors["consistency"]:
        assert case["proof"] == reference["consistency"][case["old"]][case["new"]]
        assert [n.hex() for n in _consistency(leaves, case["old"], case["new"])] == case["proof"]

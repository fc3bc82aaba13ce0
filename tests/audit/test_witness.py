"""A witness cosigns a checkpoint only when it extends the last one it cosigned (C2SP
tlog-witness): it refuses a fork, a rollback, an unknown log and a checkpoint it cannot trust."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.merkle import (
    consistency_spans,
    leaf_hash,
    root_from_leaves,
    span_hashes,
    span_nodes,
)
from audit.note import ED25519, Note, Signature, Verifier, parse_note, sign_note
from audit.tlog import Checkpoint, add_checkpoint_body, verify_cosignature
from audit.witness import Refused, Witness, origin_hash

ORIGIN = "gemeente.example/audit"
LOG_KEY = Ed25519PrivateKey.generate()
LOG = Verifier(ORIGIN, ED25519, LOG_KEY.public_key())
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def leaves(count: int, salt: bytes = b"") -> list[bytes]:
    return [
        leaf_hash(hashlib.sha256(salt + bytes([i % 256, i // 256])).digest()) for i in range(count)
    ]


def signed(
    tree: list[bytes], size: int, key: Ed25519PrivateKey = LOG_KEY, origin: str = ORIGIN
) -> Note:
    return sign_note(Checkpoint(origin, size, root_from_leaves(tree[:size])).text, origin, key)


def proof(tree: list[bytes], old: int, new: int) -> list[bytes]:
    spans = consistency_spans(old, new)
    nodes = {
        (level, index): root_from_leaves(tree[index << level : (index + 1) << level])
        for level, index in span_nodes(spans)
    }
    return span_hashes(spans, nodes)


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(
        name="witness.example/w1",
        private_key=Ed25519PrivateKey.generate(),
        logs={ORIGIN: [LOG]},
        state_dir=tmp_path / "state",
        clock=lambda: NOW,
    )


def _add(witness: Witness, old: int, path: list[bytes], note: Note) -> Signature:
    line = witness.add_checkpoint(add_checkpoint_body(old, path, note))
    return Signature.parse(line)


def test_it_cosigns_a_first_checkpoint_and_then_one_that_extends_it(witness: Witness) -> None:
    tree = leaves(20)
    first = _add(witness, 0, [], signed(tree, 7))
    cosigned = signed(tree, 7).with_signatures((first,))
    assert verify_cosignature(parse_note(str(cosigned)), witness.verifier) == int(NOW.timestamp())
    _add(witness, 7, proof(tree, 7, 20), signed(tree, 20))
    seen = witness.seen(ORIGIN)
    assert seen is not None and seen.size == 20
    assert witness.latest(origin_hash(ORIGIN)) == seen.note


def test_it_refuses_a_fork(witness: Witness) -> None:
    tree, other = leaves(20), leaves(20, b"forked")
    _add(witness, 0, [], signed(tree, 12))
    with pytest.raises(Refused) as fork:  # another tree of the same size
        _add(witness, 12, [], signed(other, 12))
    assert fork.value.status == 422
    forked = other[:12] + tree[12:]  # a larger tree that does not extend the one seen
    with pytest.raises(Refused) as diverged:
        _add(witness, 12, proof(forked, 12, 20), signed(forked, 20))
    assert diverged.value.status == 422
    assert witness.seen(ORIGIN) is not None and witness.seen(ORIGIN).size == 12  # type: ignore[union-attr]


def test_it_refuses_a_rollback(witness: Witness) -> None:
    tree = leaves(20)
    _add(witness, 0, [], signed(tree, 20))
    with pytest.raises(Refused) as back:
        _add(witness, 20, [], signed(tree, 10))
    assert back.value.status == 400
    with pytest.raises(Refused) as stale:  # as if it had seen only 10
        _add(witness, 10, proof(tree, 10, 20), signed(tree, 20))
    assert (stale.value.status, stale.value.body, stale.value.media_type) == (
        409,
        "20\n",
        "text/x.tlog.size",
    )


def test_it_refuses_an_unknown_log_and_an_untrusted_signature(witness: Witness) -> None:
    tree = leaves(5)
    with pytest.raises(Refused) as unknown:
        _add(witness, 0, [], signed(tree, 5, origin="elsewhere.example/log"))
    assert unknown.value.status == 404
    with pytest.raises(Refused) as impostor:
        _add(witness, 0, [], signed(tree, 5, key=Ed25519PrivateKey.generate()))
    assert impostor.value.status == 403
    tampered = signed(tree, 5)
    broken = Note(tampered.text.replace("\n5\n", "\n6\n"), tampered.signatures)
    with pytest.raises(Refused) as bad:
        _add(witness, 0, [], broken)
    assert bad.value.status == 403
    with pytest.raises(Refused) as malformed:
        witness.add_checkpoint("old five\n\nnot a checkpoint\n")
    assert malformed.value.status == 400


def test_what_it_saw_outlives_the_process(witness: Witness, tmp_path: Path) -> None:
    tree = leaves(9)
    _add(witness, 0, [], signed(tree, 9))
    again = Witness(
        name="witness.example/w1",
        private_key=Ed25519PrivateKey.generate(),
        logs={ORIGIN: [LOG]},
        state_dir=tmp_path / "state",
        clock=lambda: NOW,
    )
    with pytest.raises(Refused) as stale:
        _add(again, 0, [], signed(tree, 9))
    assert stale.value.status == 409

"""Signed notes, checkpoints and cosignatures as C2SP writes them (signed-note, tlog-checkpoint,
tlog-cosignature, tlog-proof, tlog-witness), with the examples those documents give."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.note import ED25519, NoteError, Verifier, parse_note, sign_note, verify_note
from audit.tlog import (
    Checkpoint,
    add_checkpoint_body,
    cosign,
    cosigner,
    parse_add_checkpoint,
    parse_proof_text,
    proof_text,
    verify_cosignature,
)

# The example of C2SP signed-note v1.0.0, "Verifier keys".
EXAMPLE_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
EXAMPLE_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# The checkpoint of C2SP tlog-checkpoint v1.0.0's example.
EXAMPLE_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def test_the_signed_note_example_verifies_with_its_verifier_key() -> None:
    verifier = Verifier.parse(EXAMPLE_VKEY)
    assert verifier.vkey == EXAMPLE_VKEY
    note = parse_note(EXAMPLE_NOTE)
    assert note.text == "This is an example message.\n"
    assert verify_note(note, verifier)
    assert str(note) == EXAMPLE_NOTE


def test_a_changed_text_fails_and_an_unknown_key_is_ignored() -> None:
    verifier = Verifier.parse(EXAMPLE_VKEY)
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(parse_note(EXAMPLE_NOTE.replace("example", "altered", 1)), verifier)
    other = Verifier("example.com/bar", ED25519, Ed25519PrivateKey.generate().public_key())
    assert not verify_note(parse_note(EXAMPLE_NOTE), other)


def test_the_checkpoint_example_reads_back() -> None:
    checkpoint = Checkpoint.parse(EXAMPLE_CHECKPOINT)
    assert (checkpoint.origin, checkpoint.size, len(checkpoint.root)) == (
        "example.com/behind-the-sofa",
        20852163,
        32,
    )
    assert checkpoint.text == EXAMPLE_CHECKPOINT


@pytest.mark.parametrize(
    "text",
    [
        "origin\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n12\nnot base64\n",
        "origin\n12\nAAAA\n",
        "origin\n12\n",
        "origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nextension\n",
    ],
)
def test_a_malformed_checkpoint_is_refused(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_a_cosignature_verifies_with_the_witness_key_and_names_its_time() -> None:
    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    note = sign_note(EXAMPLE_CHECKPOINT, "example.com/behind-the-sofa", log_key)
    cosigned = note.with_signatures(
        (cosign(note.text, "witness.example/w1", witness_key, 1679315147),)
    )
    again = parse_note(str(cosigned))
    witness = cosigner("witness.example/w1", witness_key)
    assert witness.vkey.startswith("witness.example/w1+")
    assert Verifier.parse(witness.vkey).key_id == witness.key_id
    assert verify_cosignature(again, witness) == 1679315147
    log = Verifier("example.com/behind-the-sofa", ED25519, log_key.public_key())
    assert verify_note(again, log)
    assert verify_cosignature(again, log) is None  # a log signature is no cosignature


def test_a_proof_and_a_witness_request_read_back() -> None:
    key = Ed25519PrivateKey.generate()
    note = sign_note(EXAMPLE_CHECKPOINT, "example.com/behind-the-sofa", key)
    path = [bytes([i]) * 32 for i in range(3)]
    parsed = parse_proof_text(proof_text(73894, path, note, extra=b"entry"))
    assert (parsed.index, parsed.path, parsed.extra, str(parsed.note)) == (
        73894,
        path,
        b"entry",
        str(note),
    )
    request = parse_add_checkpoint(add_checkpoint_body(20852014, path, note))
    assert (request.old_size, request.proof, str(request.note)) == (20852014, path, str(note))
    empty = parse_add_checkpoint(add_checkpoint_body(0, [], note))
    assert (empty.old_size, empty.proof) == (0, [])

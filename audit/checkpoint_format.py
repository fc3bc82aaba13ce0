"""What a checkpoint signs, as bytes (docs/audit-format.md §4): Ed25519 (RFC 8032) over the JCS
(RFC 8785) of (seq, entry_hash, recorded_at). No database here: verifiers import it.

signing input = JCS({"format": "schakel-audit-checkpoint/1", "seq": …, "entry_hash": …,
                     "recorded_at": …})
"""

from __future__ import annotations

from audit.chain import canonical_json

CHECKPOINT_FORMAT = "schakel-audit-checkpoint/1"
# The members of a version 1 checkpoint document (§4.1).
CHECKPOINT_FIELDS = ("seq", "entry_hash", "recorded_at", "signed_at", "kid", "signature")


def signing_input(*, seq: int, entry_hash: str, recorded_at: str) -> bytes:
    """The exact bytes a checkpoint signature covers (docs/audit-format.md §4.1)."""
    return canonical_json(
        {
            "format": CHECKPOINT_FORMAT,
            "seq": seq,
            "entry_hash": entry_hash,
            "recorded_at": recorded_at,
        }
    )

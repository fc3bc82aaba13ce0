"""Build audit logs in memory with the real chain and checkpoint rules (no database)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.chain import GENESIS_HASH, format_timestamp, seal
from audit.checkpoint_format import signing_input
from audit.fields import FORMAT_VERSION
from audit.keys import AuditSigningKey
from audit.merkle import leaf_hash, root_from_leaves
from audit.note import sign_note
from audit.schemas import AuditDraft
from audit.tlog import Checkpoint

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def build_entries(
    drafts: Sequence[AuditDraft], *, start: datetime = START, version: int = FORMAT_VERSION
) -> list[dict[str, Any]]:
    """Entries sealed as the gateway seals them, in the members of ``version``."""
    entries: list[dict[str, Any]] = []
    prev_hash = GENESIS_HASH
    for seq, draft in enumerate(drafts, start=1):
        entry = seal(
            {
                **draft.model_dump(mode="json"),
                "seq": seq,
                "recorded_at": format_timestamp(start + timedelta(seconds=seq, microseconds=seq)),
                "prev_hash": prev_hash,
            },
            version=version,
        )
        entries.append(entry)
        prev_hash = entry["entry_hash"]
    return entries


def sign_checkpoint(
    entry: dict[str, Any], key: AuditSigningKey, *, signed_at: datetime = START
) -> dict[str, Any]:
    return {
        "seq": entry["seq"],
        "entry_hash": entry["entry_hash"],
        "recorded_at": entry["recorded_at"],
        "signed_at": format_timestamp(signed_at),
        "kid": key.kid,
        "signature": key.sign(
            signing_input(
                seq=entry["seq"], entry_hash=entry["entry_hash"], recorded_at=entry["recorded_at"]
            )
        ),
    }


def build_checkpoints(
    entries: Sequence[dict[str, Any]], key: AuditSigningKey, *, every: int
) -> list[dict[str, Any]]:
    """A checkpoint every ``every`` entries and always one on the last entry."""
    return [
        sign_checkpoint(entry, key)
        for entry in entries
        if entry["seq"] % every == 0 or entry["seq"] == len(entries)
    ]


def reseal_from(entries: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    """What a forger without the key does: renumber and rehash everything from ``index`` on."""
    result = [dict(entry) for entry in entries[:index]]
    prev_hash = result[-1]["entry_hash"] if result else GENESIS_HASH
    for seq, entry in enumerate(entries[index:], start=index + 1):
        fields = {**entry, "seq": seq, "prev_hash": prev_hash}
        fields.pop("entry_hash", None)
        sealed = seal(fields, version=2 if "actor_user" in fields else 1)
        result.append(sealed)
        prev_hash = sealed["entry_hash"]
    return result


def sign_tree_checkpoint(
    entries: Sequence[dict[str, Any]],
    size: int,
    key: AuditSigningKey,
    *,
    origin: str,
    signed_at: datetime = START,
) -> dict[str, Any]:
    """A version 2 checkpoint document: the tree head of entries 1..size as a signed note."""
    leaves = [leaf_hash(bytes.fromhex(entry["entry_hash"])) for entry in entries[:size]]
    text = Checkpoint(origin, size, root_from_leaves(leaves)).text
    return {
        "seq": size,
        "signed_at": format_timestamp(signed_at),
        "note": str(sign_note(text, origin, key.private_key)),
    }

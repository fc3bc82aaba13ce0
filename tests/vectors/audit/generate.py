"""Regenerate the audit test vectors: `.venv/bin/python -m tests.vectors.audit.generate`.

The key below is a published test key; it signs nothing but these vectors.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.chain import EXPORT_FORMATS
from audit.keys import AuditSigningKey, publish_jwks
from audit.schemas import AuditDraft, Outcome
from tests.audit.builder import build_entries, reseal_from, sign_checkpoint
from tests.audit.tamper import rehash as rehash_from
from tests.vectors.audit.generate_v2 import version_2

HERE = Path(__file__).resolve().parent
TEST_KEY_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
KEY = AuditSigningKey.from_private_key(Ed25519PrivateKey.from_private_bytes(TEST_KEY_SEED))
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"

DRAFTS = [
    AuditDraft(
        trace_id=TRACE, actor_party="gemeente-leiden", actor_domain="gemeente",
        action="consent.grant", subject_ref="ps-audit-0001", purpose="reintegration",
        categories=("work.capacity", "care.involvement"), consent_ids=("c-1",), outcome=Outcome.OK,
    ),
    AuditDraft(
        trace_id=TRACE, actor_party="uwv-leiden", actor_domain="uwv", action="disclose",
        subject_ref="ps-audit-0001", purpose="reintegration",
        categories=("care.involvement",), consent_ids=("c-1",), decision_id="d-7",
        policy_revision="sha256:2f1c", outcome=Outcome.ALLOW, payload_digest="ab" * 32,
    ),
    AuditDraft(
        actor_party="uwv-leiden", actor_domain="uwv", action="deny", subject_ref="ps-audit-0001",
        purpose="reintegration", categories=("care.diagnosis",), decision_id="d-8",
        policy_revision="sha256:2f1c", outcome=Outcome.DENY,
        reason="care.diagnosis blijft binnen de GGZ (medisch beroepsgeheim)",
    ),
    AuditDraft(
        actor_party="clientsteun-leiden", actor_domain="client-support", action="consent.revoke",
        subject_ref="ps-audit-0001", consent_ids=("c-1",), outcome=Outcome.OK,
        reason="Cliënt trekt toestemming in — “per direct”",
    ),
    AuditDraft(
        actor_party="gemeente-leiden", actor_domain="gemeente", action="audit.query",
        outcome=Outcome.OK, reason='{"subject_ref":"ps-audit-0001"}',
    ),
]  # fmt: skip


def lines(
    entries: list[dict[str, Any]],
    checkpoints: list[dict[str, Any]],
    *,
    header: bool = True,
    as_written: bool = False,
) -> str:
    """An export; ``as_written`` writes each entry line as the gateway does (the entry's JCS)."""
    if as_written:
        text = lines([], [], header=header)
        text += "".join('{"entry":' + rfc8785.dumps(entry).decode() + "}\n" for entry in entries)
        return text + lines([], checkpoints, header=False)
    records: list[dict[str, Any]] = []
    if header:
        records.append(
            {"header": {"format": EXPORT_FORMATS[0], "exported_at": "2026-11-24T12:00:00.000000Z"}}
        )
    records += [{"entry": entry} for entry in entries]
    records += [{"checkpoint": checkpoint} for checkpoint in checkpoints]
    return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)


def main() -> None:
    signed_at = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    entries = build_entries(DRAFTS, version=1)
    checkpoints = [sign_checkpoint(entries[i], KEY, signed_at=signed_at) for i in (2, 4)]
    cases: list[dict[str, Any]] = []

    def write(name: str, text: str, *, ok: bool, first_bad_seq: int | None, what: str) -> None:
        (HERE / name).parent.mkdir(exist_ok=True)
        (HERE / name).write_text(text, encoding="utf-8")
        cases.append({"file": name, "ok": ok, "first_bad_seq": first_bad_seq, "tampering": what})

    write("valid.ndjson", lines(entries, checkpoints), ok=True, first_bad_seq=None, what="none")
    changed = [dict(e) for e in entries]
    changed[1]["categories"] = ["care.diagnosis", "care.involvement"]
    write(
        "changed-field.ndjson",
        lines(changed, checkpoints),
        ok=False,
        first_bad_seq=2,
        what="entry 2 discloses one more category; entry_hash left as it was",
    )
    write(
        "changed-field-resealed.ndjson",
        lines(reseal_from(changed, 1), checkpoints),
        ok=False,
        first_bad_seq=3,
        what="entry 2 changed and every later hash recomputed; checkpoint 3 disagrees",
    )
    write(
        "deleted-row.ndjson",
        lines(entries[:2] + entries[3:], checkpoints),
        ok=False,
        first_bad_seq=3,
        what="entry 3 (the denial) removed",
    )
    write(
        "swapped-rows.ndjson",
        lines([entries[0], entries[2], entries[1], *entries[3:]], checkpoints),
        ok=False,
        first_bad_seq=2,
        what="entries 2 and 3 swapped",
    )
    forged = reseal_from(
        [*entries[:1], {**entries[1], "actor_party": "ggz-leiden"}, *entries[1:]], 1
    )
    write(
        "inserted-row.ndjson",
        lines(forged, checkpoints),
        ok=False,
        first_bad_seq=3,
        what="a forged entry inserted as seq 2 and the chain recomputed",
    )
    write(
        "cut-tail.ndjson",
        lines(entries[:3], checkpoints),
        ok=False,
        first_bad_seq=4,
        what="entries after the checkpoint at seq 3 removed; the checkpoint at seq 5 remains",
    )
    bad_signature = [checkpoints[0], {**checkpoints[1], "recorded_at": entries[3]["recorded_at"]}]
    write(
        "forged-checkpoint.ndjson",
        lines(entries, bad_signature),
        ok=False,
        first_bad_seq=5,
        what="the checkpoint at seq 5 altered after signing",
    )
    _unsigned_tail(entries, checkpoints[0], write)
    (HERE / "jwks.json").write_text(
        json.dumps(publish_jwks(KEY), indent=2) + "\n", encoding="utf-8"
    )
    version_2(write)
    (HERE / "cases.json").write_text(
        json.dumps(cases, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _unsigned_tail(entries: list[dict[str, Any]], checkpoint: dict[str, Any], write: Any) -> None:
    """Entries 4 and 5, after the only checkpoint (seq 3), broken against §1, §3 or §8 and hashed
    again: nothing but the rules can find these."""
    tail: list[tuple[str, str, dict[str, Any], int]] = [
        ("tail-extra-member", "entry 4 has a member §1 does not name", {"signed": True}, 4),
        ("tail-seq-as-string", 'entry 5 gives its seq as "5"', {"seq": "5"}, 5),
        ("tail-timestamp-form", "entry 4's recorded_at has no fraction", {"recorded_at": "2026-11-24T10:00:04Z"}, 4),
        ("tail-unknown-outcome", "entry 5's outcome is none of the four", {"outcome": "maybe"}, 5),
        ("tail-unsorted-categories", "entry 4's categories are not sorted", {"categories": ["work.capacity", "care.involvement"]}, 4),
    ]  # fmt: skip
    for name, what, change, seq in tail:
        changed = [dict(entry) for entry in entries]
        changed[seq - 1].update(change)
        write(
            f"{name}.ndjson",
            lines(rehash_from(changed, seq - 1), [checkpoint], as_written=True),
            ok=False,
            first_bad_seq=seq,
            what=f"{what}, the chain hashed again; no checkpoint covers it",
        )
    missing = [dict(entry) for entry in entries]
    del missing[3]["trace_id"]
    write(
        "tail-missing-member.ndjson",
        lines(rehash_from(missing, 3), [checkpoint], as_written=True),
        ok=False,
        first_bad_seq=4,
        what="entry 4 lacks trace_id, the chain hashed again; no checkpoint covers it",
    )
    swapped = [*entries[:3], {**entries[4], "seq": 4}, {**entries[3], "seq": 5}]
    write(
        "tail-swapped-resealed.ndjson",
        lines(rehash_from(swapped, 3), [checkpoint], as_written=True),
        ok=False,
        first_bad_seq=5,
        what="entries 4 and 5 swapped, renumbered and hashed again: recorded_at goes back",
    )


if __name__ == "__main__":
    main()

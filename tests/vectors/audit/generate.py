"""Regenerate the audit test vectors: `.venv/bin/python -m tests.vectors.audit.generate`.

The key below is a published test key; it signs nothing but these vectors.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.export import EXPORT_FORMAT
from audit.keys import AuditSigningKey, publish_jwks
from audit.schemas import AuditDraft, Outcome
from tests.audit.builder import build_entries, reseal_from, sign_checkpoint

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
    entries: list[dict[str, Any]], checkpoints: list[dict[str, Any]], *, header: bool = True
) -> str:
    records: list[dict[str, Any]] = []
    if header:
        records.append(
            {"header": {"format": EXPORT_FORMAT, "exported_at": "2026-11-24T12:00:00.000000Z"}}
        )
    records += [{"entry": entry} for entry in entries]
    records += [{"checkpoint": checkpoint} for checkpoint in checkpoints]
    return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)


def main() -> None:
    signed_at = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    entries = build_entries(DRAFTS)
    checkpoints = [sign_checkpoint(entries[i], KEY, signed_at=signed_at) for i in (2, 4)]
    cases: list[dict[str, Any]] = []

    def write(name: str, text: str, *, ok: bool, first_bad_seq: int | None, what: str) -> None:
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
    (HERE / "jwks.json").write_text(
        json.dumps(publish_jwks(KEY), indent=2) + "\n", encoding="utf-8"
    )
    (HERE / "cases.json").write_text(
        json.dumps(cases, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()

"""Property-based: whatever a forger without the signing key changes in a log, verify finds it."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from audit.actions import Action
from audit.chain import seal
from audit.fields import ENTRY_FIELDS
from audit.keys import AuditSigningKey, publish_jwks
from audit.schemas import AuditDraft, Outcome
from audit.verify import verify_log
from tests.audit.builder import build_checkpoints, build_entries, reseal_from

KEY = AuditSigningKey.generate()
JWKS = publish_jwks(KEY)
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzëé-. ", min_size=1, max_size=20)
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)

drafts = st.builds(
    AuditDraft,
    trace_id=st.none() | st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
    actor_party=NAMES,
    actor_domain=st.sampled_from(["ggz", "uwv", "gemeente", "client-support"]),
    action=st.sampled_from(list(Action)),
    subject_ref=st.none() | NAMES,
    purpose=st.none() | st.sampled_from(["reintegration", "case-coordination"]),
    categories=st.lists(NAMES, max_size=4).map(tuple),
    consent_ids=st.lists(NAMES, max_size=3).map(tuple),
    decision_id=st.none() | NAMES,
    policy_revision=st.none() | NAMES,
    outcome=st.sampled_from(list(Outcome)),
    reason=st.none() | WORDS,
    payload_digest=st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    entries = build_entries(draw(st.lists(drafts, min_size=2, max_size=12)))
    every = draw(st.integers(min_value=1, max_value=5))
    return entries, build_checkpoints(entries, KEY, every=every)


def changed(value: Any, name: str) -> Any:
    """A different value of the same kind as ``value``."""
    if name == "seq":
        return value + 1
    if name == "outcome":
        return "deny" if value != "deny" else "allow"
    if name == "recorded_at":
        return value[:-2] + ("1" if value[-2] != "1" else "2") + "Z"
    if isinstance(value, list):
        return sorted([*value, "zz-forged"])
    if isinstance(value, str) and len(value) == 64 and name.endswith(("hash", "digest")):
        return ("f" if value[0] != "f" else "e") + value[1:]
    if value is None:
        return "forged"
    return value + "x"


relaxed = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@relaxed
@given(logs())
def test_an_untouched_log_verifies(log: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    entries, checkpoints = log
    report = verify_log(entries, checkpoints, JWKS)
    assert report.ok, report.summary()
    assert report.verified_through == report.last_seq == len(entries)


@relaxed
@given(logs(), st.data())
def test_changing_any_field_of_any_entry_is_found(
    log: tuple[list[dict[str, Any]], list[dict[str, Any]]], data: st.DataObject
) -> None:
    entries, checkpoints = log
    index = data.draw(st.integers(0, len(entries) - 1))
    name = data.draw(st.sampled_from([*ENTRY_FIELDS, "entry_hash"]))
    entries[index] = {**entries[index], name: changed(entries[index][name], name)}
    report = verify_log(entries, checkpoints, JWKS)
    assert not report.ok
    assert report.first_bad_seq == index + 1


@relaxed
@given(logs(), st.data())
def test_changing_a_field_and_resealing_the_chain_is_found(
    log: tuple[list[dict[str, Any]], list[dict[str, Any]]], data: st.DataObject
) -> None:
    entries, checkpoints = log
    index = data.draw(st.integers(0, len(entries) - 1))
    name = data.draw(st.sampled_from(["actor_party", "subject_ref", "categories", "outcome"]))
    entries[index] = {**entries[index], name: changed(entries[index][name], name)}
    report = verify_log(reseal_from(entries, index), checkpoints, JWKS)
    assert not report.ok
    assert report.first_bad_seq is not None and report.first_bad_seq >= index + 1


@relaxed
@given(logs(), st.data())
def test_deleting_a_row_is_found(
    log: tuple[list[dict[str, Any]], list[dict[str, Any]]], data: st.DataObject
) -> None:
    entries, checkpoints = log
    index = data.draw(st.integers(0, len(entries) - 1))
    del entries[index]
    report = verify_log(entries, checkpoints, JWKS)
    assert not report.ok
    assert report.first_bad_seq == index + 1


@relaxed
@given(logs(), st.data())
def test_swapping_two_rows_is_found(
    log: tuple[list[dict[str, Any]], list[dict[str, Any]]], data: st.DataObject
) -> None:
    entries, checkpoints = log
    first = data.draw(st.integers(0, len(entries) - 2))
    second = data.draw(st.integers(first + 1, len(entries) - 1))
    entries[first], entries[second] = entries[second], entries[first]
    report = verify_log(entries, checkpoints, JWKS)
    assert not report.ok
    assert report.first_bad_seq == first + 1


@relaxed
@given(logs(), drafts, st.data())
def test_inserting_a_forged_row_is_found(
    log: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    forged: AuditDraft,
    data: st.DataObject,
) -> None:
    entries, checkpoints = log
    index = data.draw(st.integers(0, len(entries) - 1))
    previous = entries[index - 1] if index else None
    row = seal(
        {
            **forged.model_dump(mode="json"),
            "seq": index + 1,
            "recorded_at": entries[index]["recorded_at"],
            "prev_hash": previous["entry_hash"] if previous else "0" * 64,
        }
    )
    # A "forged" row equal to the one it displaces forges nothing; the signed head still holds.
    assume(row["entry_hash"] != entries[index]["entry_hash"])
    naive = [*entries[:index], row, *entries[index:]]
    assert not verify_log(naive, checkpoints, JWKS).ok
    resealed = reseal_from(naive, index)
    report = verify_log(resealed, checkpoints, JWKS)
    assert not report.ok
    assert report.first_bad_seq is not None and report.first_bad_seq >= index + 1


@relaxed
@given(logs(), st.data())
def test_cutting_the_tail_after_a_checkpoint_is_found(
    log: tuple[list[dict[str, Any]], list[dict[str, Any]]], data: st.DataObject
) -> None:
    entries, checkpoints = log
    cut = data.draw(st.integers(0, len(entries) - 1))
    report = verify_log(entries[:cut], checkpoints, JWKS)
    assert not report.ok
    assert report.first_bad_seq == cut + 1


@relaxed
@given(logs(), st.data())
def test_a_checkpoint_signed_by_another_key_is_found(
    log: tuple[list[dict[str, Any]], list[dict[str, Any]]], data: st.DataObject
) -> None:
    entries, checkpoints = log
    index = data.draw(st.integers(0, len(checkpoints) - 1))
    impostor = AuditSigningKey.generate()
    forged = build_checkpoints(entries, impostor, every=1)[checkpoints[index]["seq"] - 1]
    checkpoints[index] = {**forged, "kid": KEY.kid}
    report = verify_log(entries, checkpoints, JWKS)
    assert not report.ok
    assert report.first_bad_seq == checkpoints[index]["seq"]
    assert report.problem == "checkpoint signature does not verify"


def test_retired_keys_keep_old_checkpoints_verifiable() -> None:
    old, new = AuditSigningKey.generate(), AuditSigningKey.generate()
    entries = build_entries(
        [AuditDraft(actor_party="p", actor_domain="uwv", action="deny", outcome=Outcome.DENY)] * 4
    )
    checkpoints = [
        *build_checkpoints(entries[:2], old, every=2),
        *build_checkpoints(entries, new, every=2)[1:],
    ]
    assert verify_log(entries, checkpoints, publish_jwks(new, publish_jwks(old))).ok
    unknown = verify_log(entries, checkpoints, publish_jwks(new))
    assert not unknown.ok
    assert unknown.first_bad_seq == 2
    assert "unknown key" in (unknown.problem or "")

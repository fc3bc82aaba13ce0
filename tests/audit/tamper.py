"""What a forger without the signing key can do to a log, as hypothesis strategies.

Each tampering changes a built log (entries and checkpoints) and may hash the chain again from
the entry it touched on, as a forger would to hide the change up to the next checkpoint. The
log's last entries are often left without a checkpoint, where only the rules of §8 stand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import rfc8785
from hypothesis import strategies as st

from audit.actions import Action
from audit.keys import AuditSigningKey
from audit.schemas import AuditDraft, Outcome
from tests.audit.builder import build_entries, sign_checkpoint, sign_tree_checkpoint
from tests.audit.conftest import ORIGIN

KEY = AuditSigningKey.generate()
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
WORDS = st.text(alphabet='abcdefghijklmnopqrstuvwxyzëé-. "\\', min_size=1, max_size=20)

drafts = st.builds(
    AuditDraft,
    trace_id=st.none() | st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
    actor_party=NAMES,
    actor_domain=st.sampled_from(["ggz", "uwv", "gemeente", "client-support"]),
    action=st.sampled_from(list(Action)),
    subject_ref=st.none() | NAMES,
    purpose=st.none() | st.sampled_from(["reintegration", "case-coordination"]),
    categories=st.lists(NAMES, max_size=3).map(tuple),
    consent_ids=st.lists(NAMES, max_size=2).map(tuple),
    outcome=st.sampled_from(list(Outcome)),
    reason=st.none() | WORDS,
    payload_digest=st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)

Log = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def rehash(entries: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    """Every entry from ``start`` on linked to the one before it and hashed again (§2), whatever
    its members hold: what a forger does after changing an entry."""
    result = [dict(entry) for entry in entries]
    for index in range(start, len(result)):
        entry = result[index]
        if index > 0:
            entry["prev_hash"] = result[index - 1].get("entry_hash")
        hashed = {name: value for name, value in entry.items() if name != "entry_hash"}
        prev = entry.get("prev_hash")
        try:
            raw = bytes.fromhex(prev) if isinstance(prev, str) else b""
            entry["entry_hash"] = hashlib.sha256(raw + rfc8785.dumps(hashed)).hexdigest()
        except (ValueError, rfc8785.CanonicalizationError):
            pass  # not hashable as §2 says: left as it is
    return result


# Values of the wrong form (§1, §3) for a member, the forms the issue names first.
WRONG_FORMS: dict[str, list[Any]] = {
    "seq": ["{seq}", 1.5, None, True],
    "recorded_at": [
        "2026-11-24T10:00:01Z",
        "2026-11-24T10:00:01.000001+00:00",
        "2026-11-24 10:00:01.000001Z",
        "2026-11-24T10:00:01.000001Z\n",
        "٢٠٢٦-11-24T10:00:01.000001Z",
        None,
    ],
    "outcome": ["maybe", "ALLOW", None],
    "categories": [["b", "a"], ["a", "a"], "a", [1], None],
    "consent_ids": [["z", "c-1"], ["c-1", "c-1"]],
    "payload_digest": ["AB" * 32, "ab" * 31, "ab" * 32 + "\n", 7],
    "prev_hash": ["AB" * 32, None],
    "actor_party": [None, 5, ["uwv"]],
    "trace_id": [5, ["x"]],
    "reason": [1, {"a": 1}],
}


def _wrong_form(draw: st.DrawFn, log: Log) -> tuple[Log, int]:
    entries, checkpoints = log
    index = draw(st.integers(0, len(entries) - 1))
    name = draw(st.sampled_from(sorted(WRONG_FORMS)))
    value = draw(st.sampled_from(WRONG_FORMS[name]))
    if value == "{seq}":
        value = str(entries[index]["seq"])
    entries[index] = {**entries[index], name: value}
    return (entries, checkpoints), index


def _extra_or_missing(draw: st.DrawFn, log: Log) -> tuple[Log, int]:
    entries, checkpoints = log
    index = draw(st.integers(0, len(entries) - 1))
    entry = dict(entries[index])
    if draw(st.booleans()):
        entry[draw(st.sampled_from(["extra", "actor_user", "signature"]))] = "x"
    else:
        del entry[draw(st.sampled_from([n for n in entry if n not in ("prev_hash", "entry_hash")]))]
    entries[index] = entry
    return (entries, checkpoints), index


def _earlier(draw: st.DrawFn, log: Log) -> tuple[Log, int]:
    """recorded_at before the previous entry's: two entries swapped and hashed again."""
    entries, checkpoints = log
    index = draw(st.integers(1, len(entries) - 1))
    entries[index] = {**entries[index], "recorded_at": "2026-11-24T09:00:00.000000Z"}
    return (entries, checkpoints), index


def _swapped(draw: st.DrawFn, log: Log) -> tuple[Log, int]:
    entries, checkpoints = log
    index = draw(st.integers(0, len(entries) - 2))
    entries[index], entries[index + 1] = entries[index + 1], entries[index]
    if draw(st.booleans()):  # and renumbered, as rows keyed by seq would be
        entries[index], entries[index + 1] = (
            {**entries[index], "seq": index + 1},
            {**entries[index + 1], "seq": index + 2},
        )
    return (entries, checkpoints), index


def _deleted(draw: st.DrawFn, log: Log) -> tuple[Log, int]:
    entries, checkpoints = log
    index = draw(st.integers(0, len(entries) - 1))
    del entries[index]
    return (entries, checkpoints), index


def _inserted(draw: st.DrawFn, log: Log) -> tuple[Log, int]:
    entries, checkpoints = log
    index = draw(st.integers(0, len(entries) - 1))
    forged = {**entries[index], "actor_party": "forged-party"}
    entries.insert(index, forged)
    for position in range(index, len(entries)):  # renumbered after it
        entries[position] = {**entries[position], "seq": position + 1}
    return (entries, checkpoints), index


def _changed(draw: st.DrawFn, log: Log) -> tuple[Log, int]:
    entries, checkpoints = log
    index = draw(st.integers(0, len(entries) - 1))
    name = draw(st.sampled_from(["actor_party", "reason", "purpose", "subject_ref"]))
    entries[index] = {**entries[index], name: "changed"}
    return (entries, checkpoints), index


def _cut(draw: st.DrawFn, log: Log) -> tuple[Log, int]:
    entries, checkpoints = log
    keep = draw(st.integers(0, len(entries) - 1))
    return (entries[:keep], checkpoints), len(entries)


def _checkpoint(draw: st.DrawFn, log: Log) -> tuple[Log, int]:
    entries, checkpoints = log
    if not checkpoints:
        return (entries, checkpoints), len(entries)
    index = draw(st.integers(0, len(checkpoints) - 1))
    how = draw(st.sampled_from(["drop", "hash", "signature", "seq"]))
    if how == "drop":
        del checkpoints[index]
    elif how == "hash":
        checkpoints[index] = {**checkpoints[index], "entry_hash": "f" * 64}
    elif how == "signature":
        impostor = sign_checkpoint(
            entries[checkpoints[index]["seq"] - 1], AuditSigningKey.generate()
        )
        checkpoints[index] = {**impostor, "kid": KEY.kid}
    else:
        checkpoints[index] = {**checkpoints[index], "seq": checkpoints[index]["seq"] + 1}
    return (entries, checkpoints), len(entries)


TAMPERINGS: dict[str, Callable[[st.DrawFn, Log], tuple[Log, int]]] = {
    "wrong form": _wrong_form,
    "extra or missing member": _extra_or_missing,
    "recorded_at earlier": _earlier,
    "swapped": _swapped,
    "deleted": _deleted,
    "inserted": _inserted,
    "changed": _changed,
    "cut": _cut,
    "checkpoint": _checkpoint,
}
# The tamperings a database's columns can hold (a timestamp column, typed columns, rows by seq).
STORABLE = ("recorded_at earlier", "swapped", "deleted", "inserted", "changed", "cut", "checkpoint")
STORABLE_FORMS = {
    "outcome": ["maybe", "ALLOW"],
    "categories": [["b", "a"], ["a", "a"]],
    "consent_ids": [["z", "c-1"], ["c-1", "c-1"]],
    "payload_digest": ["AB" * 32, "ab" * 31],
}


@st.composite
def valid_logs(draw: st.DrawFn, *, max_entries: int = 9) -> Log:
    """A log with checkpoints every few entries, of version 1 up to some entry and version 2
    (tree heads) after it; the last few entries are often unsigned."""
    entries = build_entries(draw(st.lists(drafts, min_size=2, max_size=max_entries)))
    every = draw(st.integers(1, len(entries) + 1))
    trees_from = draw(st.integers(1, len(entries) + 1))
    checkpoints = [
        sign_checkpoint(entry, KEY)
        if entry["seq"] < trees_from
        else sign_tree_checkpoint(entries, entry["seq"], KEY, origin=ORIGIN)
        for entry in entries
        if entry["seq"] % every == 0
    ]
    return entries, checkpoints


@st.composite
def tampered_logs(draw: st.DrawFn, *, kinds: tuple[str, ...] = tuple(TAMPERINGS)) -> Log:
    """A valid log with one tampering, hashed again from there on or not."""
    log = draw(valid_logs())
    kind = draw(st.sampled_from(kinds))
    (entries, checkpoints), index = TAMPERINGS[kind](draw, log)
    if index < len(entries) and draw(st.booleans()):
        entries = rehash(entries, index)
    return entries, checkpoints


@st.composite
def tampered_storable_logs(draw: st.DrawFn) -> Log:
    """As tampered_logs, with only what the entry table's columns can hold."""
    log = draw(valid_logs())
    if draw(st.booleans()):
        kind = draw(st.sampled_from(STORABLE))
        (entries, checkpoints), index = TAMPERINGS[kind](draw, log)
    else:
        entries, checkpoints = log
        index = draw(st.integers(0, len(entries) - 1))
        name = draw(st.sampled_from(sorted(STORABLE_FORMS)))
        entries[index] = {**entries[index], name: draw(st.sampled_from(STORABLE_FORMS[name]))}
    if index < len(entries) and draw(st.booleans()):
        entries = rehash(entries, index)
    return entries, checkpoints

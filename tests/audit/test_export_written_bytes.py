"""Exports hold entries in JCS, so verifying one hashes each line's bytes as they are.

Every change to such a file sends the verifier back to the careful reading, whose report names
the problem; an untouched export verifies on the bytes alone.
"""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from audit.append import append_entry
from audit.checkpoint import create_checkpoint
from audit.export import write_export
from audit.keys import AuditSigningKey, publish_jwks
from audit.verify import Trusted
from audit.verify_export import (
    _header_origin,
    _NotAsWritten,
    _verify_as_written,
    _verify_export_carefully,
    verify_export,
)
from gateway.core.db import transaction
from tests.audit.conftest import ORIGIN, draft
from tests.support import SettableClock

KEY = AuditSigningKey.generate()
JWKS = publish_jwks(KEY)
REASONS = ['tab\t, quote ", back\\slash, \u001f', "é ✓ 𝄞 \u2028", None, "plain"]


@pytest.fixture
def lines(sessions: sessionmaker[Session]) -> list[bytes]:
    clock = SettableClock()
    with transaction(sessions) as session:
        for number in range(12):
            clock.advance(1.5)
            reason = REASONS[number % len(REASONS)]
            append_entry(session=session, draft=draft(reason=reason), clock=clock)
            if number % 5 == 4:
                create_checkpoint(session=session, signing_key=KEY, clock=clock, origin=ORIGIN)
        out = io.StringIO()
        write_export(session=session, out=out, clock=clock, origin=ORIGIN)
    return [line.encode() + b"\n" for line in out.getvalue().split("\n") if line]


def _file(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "export.ndjson"
    path.write_bytes(b"".join(lines))
    return path


def _written(path: Path) -> object:
    try:
        return _verify_as_written(path, JWKS, None, Trusted())
    except (_NotAsWritten, ValueError, KeyError, TypeError):
        return None


def test_entry_lines_are_the_jcs_of_the_entry(lines: list[bytes]) -> None:
    from audit.chain import canonical_json

    entries = [line for line in lines if line.startswith(b'{"entry":')]
    assert len(entries) == 12
    for line in entries:
        assert line == b'{"entry":' + canonical_json(orjson.loads(line)["entry"]) + b"}\n"


def test_an_untouched_export_verifies_on_its_bytes(tmp_path: Path, lines: list[bytes]) -> None:
    path = _file(tmp_path, lines)
    written = _written(path)
    assert written is not None
    assert written == verify_export(path, JWKS) == _verify_export_carefully(path, JWKS)
    assert written.ok and written.entries == 12 and written.verified_through == 10


def _changed_entry(lines: list[bytes]) -> list[bytes]:
    assert b'"outcome":"allow"' in lines[2]
    return [
        lines[0],
        lines[1],
        lines[2].replace(b'"outcome":"allow"', b'"outcome":"deny"'),
        *lines[3:],
    ]


def _dropped_entry(lines: list[bytes]) -> list[bytes]:
    return [*lines[:4], *lines[5:]]


def _swapped_entries(lines: list[bytes]) -> list[bytes]:
    return [*lines[:3], lines[4], lines[3], *lines[5:]]


def _spaced_entry(lines: list[bytes]) -> list[bytes]:
    return [*lines[:2], lines[2].replace(b'{"entry":', b'{"entry": '), *lines[3:]]


def _hash_member(line: bytes) -> tuple[int, int]:
    """Where the entry_hash member of an entry line starts and ends."""
    start = line.index(b',"entry_hash":"')
    return start, start + len(b',"entry_hash":"') + 64 + 1


def _closing_quote_changed(lines: list[bytes]) -> list[bytes]:
    """Not JSON any more, and the bytes hashed are those of the untouched line."""
    _, end = _hash_member(lines[2])
    return [*lines[:2], lines[2][: end - 1] + b"X" + lines[2][end:], *lines[3:]]


def _member_moved_into_a_string(lines: list[bytes]) -> list[bytes]:
    """The member put inside the first string value: the bytes hashed are again the same."""
    start, end = _hash_member(lines[2])
    member, rest = lines[2][start:end], lines[2][:start] + lines[2][end:]
    inside = rest.index(b'":"') + 3
    return [*lines[:2], rest[:inside] + member + rest[inside:], *lines[3:]]


def _forged_checkpoint(lines: list[bytes]) -> list[bytes]:
    last = lines[-1]
    document = orjson.loads(last)
    document["checkpoint"]["signature"] = "A" * 86
    return [*lines[:-1], orjson.dumps(document) + b"\n"]


def _cut_tail(lines: list[bytes]) -> list[bytes]:
    entries = [line for line in lines if line.startswith(b'{"entry":')]
    others = [line for line in lines[1:] if not line.startswith(b'{"entry":')]
    return [lines[0], *entries[:8], *others]


@pytest.mark.parametrize(
    "change",
    [
        _changed_entry,
        _dropped_entry,
        _swapped_entries,
        _forged_checkpoint,
        _cut_tail,
        _closing_quote_changed,
        _member_moved_into_a_string,
    ],
)
def test_a_changed_export_is_read_carefully_and_fails(
    tmp_path: Path, lines: list[bytes], change: object
) -> None:
    path = _file(tmp_path, change(lines))  # type: ignore[operator]
    assert _written(path) is None
    report = verify_export(path, JWKS)
    assert not report.ok
    assert report == _verify_export_carefully(path, JWKS)


def test_an_export_reformatted_but_equal_still_verifies(tmp_path: Path, lines: list[bytes]) -> None:
    path = _file(tmp_path, _spaced_entry(lines))
    assert _written(path) is None  # not the written bytes: parsed instead
    report = verify_export(path, JWKS)
    assert report.ok and report.entries == 12


# Bytes a hand or a tool might put into a line: JSON's punctuation, a digit, a letter, a space,
# a carriage return, and a byte that is not UTF-8 on its own.
_EDITS = st.sampled_from(
    [b'"', b",", b":", b"}", b"{", b"[", b"]", b"0", b"f", b"X", b" ", b"\\", b"\r", b"\xa9"]
)


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the export is only read
)
@given(data=st.data())
def test_an_export_edited_byte_by_byte_gets_the_careful_report(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], data: st.DataObject
) -> None:
    """Any line (header, entry or checkpoint), any byte replaced, inserted or deleted: the quick
    reading gives the careful reading's report."""
    number = data.draw(st.integers(0, len(lines) - 1), label="line")
    line = lines[number]
    at = data.draw(st.integers(0, len(line) - 2), label="at")  # the newline stays
    edit = data.draw(st.sampled_from(["replace", "insert", "delete"]), label="edit")
    byte = data.draw(_EDITS, label="byte")
    if edit == "replace":
        changed = line[:at] + byte + line[at + 1 :]
    elif edit == "insert":
        changed = line[:at] + byte + line[at:]
    else:
        changed = line[:at] + line[at + 1 :]
    path = _file(
        tmp_path_factory.mktemp("edited"), [*lines[:number], changed, *lines[number + 1 :]]
    )
    # Both trust the origin the header names, as verify_export does when given none.
    trusted = Trusted(origin=_header_origin(path))
    assert verify_export(path, JWKS) == _verify_export_carefully(path, JWKS, trusted)

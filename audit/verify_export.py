"""Verify an export file offline (docs/audit-format.md §7, §8): no database, only the file and
the published JWKS.

The quickest reading hashes each entry line's bytes as written; the next parses every line once;
the careful reading, with the standard library's parser, decides whenever either is unsure.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from audit.chain import EXPORT_FORMAT, EXPORT_FORMATS, GENESIS_HASH
from audit.errors import MalformedExport
from audit.merkle import TreeBuilder
from audit.verify import (
    PROGRESS_EVERY,
    Progress,
    SignedPoints,
    Trusted,
    VerifyReport,
    follows,
    verify_log,
)

# Entry hashes go into the tree this many at a time (and at every checkpoint).
BATCH = 4096


def verify_export(
    path: Path,
    jwks: Mapping[str, Any],
    *,
    progress: Progress | None = None,
    trusted: Trusted | None = None,
) -> VerifyReport:
    """Verify an export file offline with the published JWKS (current and retired keys).

    The quickest reading hashes each entry line's bytes as written (the exporter writes entries
    in JCS); the next parses every line once. Only when neither ends OK is the file read again
    the careful way, which finds the same first problem the format document's order of checks
    gives (a malformed line anywhere before any chain problem).
    """
    trusted = trusted or Trusted()
    if trusted.origin is None:
        trusted = replace(trusted, origin=_header_origin(path))
    if not trusted.outside:
        try:
            written = _verify_as_written(path, jwks, progress, trusted)
        except (_NotAsWritten, ValueError, KeyError, TypeError):
            written = None
        if written is not None:
            return written
    try:
        checkpoints = _header_and_checkpoints(path)
        report = verify_log(
            _entry_documents(path), checkpoints, jwks, progress=progress, trusted=trusted
        )
        if report.ok:
            return report
    except MalformedExport:
        pass
    return _verify_export_carefully(path, jwks, trusted)


def _header_origin(path: Path) -> str | None:
    """The origin a version 2 export's header names (not signed: checkpoints must agree)."""
    try:
        with path.open("rb") as lines:
            header = orjson.loads(lines.readline()).get("header")
    except (OSError, ValueError, AttributeError):
        return None
    origin = header.get("origin") if isinstance(header, dict) else None
    return origin if isinstance(origin, str) else None


class _NotAsWritten(Exception):
    """The file is not laid out as the exporter writes it: header, entries, checkpoints."""


# An entry line as written: {"entry":<JCS of the entry>}\n, where the JCS holds entry_hash
# (sorted after decision_id, before outcome) as ,"entry_hash":"<64 hex digits>" in the middle.
_HASH_MEMBER = b',"entry_hash":"'
_HASH_START = len(_HASH_MEMBER)
_HASH_MEMBER_SIZE = _HASH_START + 64 + 1
# What the member ends with and what follows it: its closing quote, then the next member. In
# JCS bytes a quote inside a string is escaped, so `,"outcome":` occurs once, at the top level:
# the member must sit right before it, which is where JCS puts it, or the line is not as written.
_HASH_END = b'","outcome":'
_CHECKPOINT_LINE = b'{"checkpoint":'


def _verify_as_written(
    path: Path, jwks: Mapping[str, Any], progress: Progress | None, trusted: Trusted
) -> VerifyReport | None:
    """The quickest reading: each entry line's bytes hashed as written, in one pass.

    Taking out the entry_hash member leaves exactly the bytes that were hashed; when each, with
    the previous entry's hash in front, hashes to its entry_hash, the chain from the genesis
    hash is intact (see SignedPoints). The bytes hashed are then the JCS the gateway wrote, and
    the member sits where JCS puts it (before `,"outcome":`, which those bytes hold once), so
    the line is that JCS with its entry_hash: what the careful reading parses. The entries
    checkpoints sign, and every entry after the last of them, are parsed as well: the first to
    hold each checkpoint against its entry, the others to hold each to every rule of §8.
    Anything unexpected returns None or raises _NotAsWritten, and a slower reading decides.
    """
    tail = _trailing_checkpoints(path)
    if any(b"\r" in line for line in tail):
        return None  # a line break to the careful reading, whitespace to a JSON parser
    points = SignedPoints.of([orjson.loads(line)["checkpoint"] for line in tail], jwks, trusted)
    if points is None:
        return None
    tree = TreeBuilder() if points.needs_tree else None
    pending: list[bytes] = []  # entry hashes not yet in the tree
    sha256, join = hashlib.sha256, b"".join
    previous = bytes.fromhex(GENESIS_HASH)
    signed = points.by_seq
    last_signed = points.last_signed
    parsed: Any = None  # the entry before this one, when it was parsed
    seq = 0
    report_at = PROGRESS_EVERY
    after: bytes | None = None  # the first line after the entries
    with path.open("rb", buffering=1 << 20) as lines:
        first = lines.readline()
        if b"\r" in first:
            return None
        header = orjson.loads(first)
        if not isinstance(header, dict) or set(header) != {"header"}:
            return None
        if (
            not isinstance(header["header"], dict)
            or header["header"].get("format") not in EXPORT_FORMATS
        ):
            return None
        for line in lines:
            if not line.startswith(_ENTRY_LINE):
                after = line
                break
            at = line.find(_HASH_MEMBER)
            end = at + _HASH_MEMBER_SIZE
            if at < 0 or not line.endswith(b"}}\n") or not line.startswith(_HASH_END, end - 1):
                return None
            previous = sha256(join((previous, line[_ENTRY_START:at], line[end:-2]))).digest()
            if previous.hex().encode() != line[at + _HASH_START : end - 1]:
                return None
            seq += 1
            if tree is not None:
                pending.append(previous)
                if seq in signed or len(pending) >= BATCH:
                    tree.add_digests(pending)
                    pending.clear()
            if seq in signed or seq > last_signed:
                entry = _entry_of(line)
                root = tree.root() if tree is not None and seq in signed else None
                if seq in signed and not points.confirm(seq, entry, root):
                    return None
                if seq > last_signed and not follows(entry, parsed):
                    return None
                parsed = entry
            if seq == report_at and progress is not None:
                progress(seq)
                report_at += PROGRESS_EVERY
        if after is not None:  # only the checkpoints read from the end may follow the entries
            expected = iter(tail)
            for line in itertools.chain([after], lines):
                if line != next(expected, None):
                    return None
            if next(expected, None) is not None:
                return None
        elif tail:
            return None
    return points.report(seq)


def _trailing_checkpoints(path: Path) -> list[bytes]:
    """The checkpoint lines that end the file, read from the end (the exporter writes them last)."""
    with path.open("rb") as file:
        size = file.seek(0, os.SEEK_END)
        block = 1 << 16
        while True:
            start = max(0, size - block)
            file.seek(start)
            tail = file.read()
            lines = tail.split(b"\n")
            if not lines or lines[-1] != b"":
                raise _NotAsWritten
            lines.pop()  # after the final newline
            found: list[bytes] = []
            for line in reversed(lines[1:] if start else lines):
                if not line.startswith(_CHECKPOINT_LINE):
                    return [*reversed(found)]
                found.append(line + b"\n")
            if start == 0:
                return [*reversed(found)]
            block *= 4


def _entry_of(line: bytes) -> Any:
    try:
        return orjson.loads(line)["entry"]
    except (ValueError, KeyError, TypeError):
        raise _NotAsWritten from None


_ENTRY_LINE = b'{"entry":'
_ENTRY_START = len(_ENTRY_LINE)


def _header_and_checkpoints(path: Path) -> list[dict[str, Any]]:
    """Every line but the entries (left for the chain walk): the header rules, the checkpoints."""
    checkpoints: list[dict[str, Any]] = []
    header = False
    for number, line in _lines(path):
        if not line.startswith(_ENTRY_LINE):
            kind, document = _record(number, line, orjson.loads)
            header = header or kind == "header"
            if kind == "checkpoint":
                checkpoints.append(document)
    if not header:
        raise MalformedExport(f"the export does not start with a {EXPORT_FORMAT} header")
    return checkpoints


def _entry_documents(path: Path) -> Iterator[Any]:
    for number, line in _lines(path):
        kind, document = _record(number, line, orjson.loads)
        if kind == "entry":
            yield document


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Numbered non-blank lines, read as bytes (orjson parses UTF-8 itself)."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if b"\r" in line:  # text mode would split the line there: leave it to the careful way
                raise MalformedExport(f"line {number} holds a carriage return")
            if line.strip():
                yield number, line


def _record(number: int, line: bytes | str, loads: Callable[[Any], Any]) -> tuple[str, Any]:
    """The kind and document of one line; MalformedExport unless it is a record of §7."""
    try:
        record = loads(line)
    except ValueError:
        raise MalformedExport(f"line {number} is not JSON") from None
    if not isinstance(record, dict) or len(record) != 1:
        raise MalformedExport(f"line {number} is not an object with one member")
    name, document = next(iter(record.items()))
    if name not in {"header", "entry", "checkpoint"}:
        raise MalformedExport(f"line {number}: unknown record {name!r}")
    if name == "header" and (
        number != 1
        or not isinstance(document, dict)
        or document.get("format") not in EXPORT_FORMATS
    ):
        raise MalformedExport(f"line {number}: the header must open the file ({EXPORT_FORMAT})")
    return name, document


def _records(path: Path, kind: str) -> Iterator[Any]:
    for number, line in _text_lines(path):
        if not line.strip():
            continue
        name, document = _record(number, line, json.loads)
        if name == kind:
            yield document


def _text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines as a text file reads them (a line ends at LF, CR LF or CR); a line that
    is not UTF-8 is MalformedExport naming it, where decoding the whole file would raise."""
    number = 0
    with path.open("rb") as lines:
        for raw in lines:
            if raw.endswith(b"\r\n"):
                raw = raw[:-2] + b"\n"
            pieces = raw.split(b"\r")
            if not pieces[-1]:
                pieces.pop()  # the file ends in \r: no line after it
            for piece in pieces:
                number += 1
                try:
                    yield number, piece.decode("utf-8")
                except UnicodeDecodeError:
                    raise MalformedExport(f"line {number} is not UTF-8") from None


def _verify_export_carefully(
    path: Path,
    jwks: Mapping[str, Any],
    trusted: Trusted | None = None,
) -> VerifyReport:
    """Every line checked before the chain, with the standard library's JSON parser."""
    trusted = trusted or Trusted()
    try:
        headers = list(_records(path, "header"))
        if not headers:
            raise MalformedExport(f"the export does not start with a {EXPORT_FORMAT} header")
        checkpoints = list(_records(path, "checkpoint"))
        return verify_log(_records(path, "entry"), checkpoints, jwks, trusted=trusted)
    except MalformedExport as error:
        return VerifyReport(
            ok=False, entries=0, checkpoints=0, last_seq=0, verified_through=0, problem=str(error)
        )

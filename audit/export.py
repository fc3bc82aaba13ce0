"""Verifiable exports (NDJSON, docs/audit-format.md §7) and officer exports (NDJSON or CSV).

Reading an export back is audit/verify_export.py, which needs no database.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import orjson
from sqlalchemy.orm import Session

from audit.append import Clock
from audit.chain import EXPORT_FORMAT, canonical_json, format_timestamp
from audit.checkpoint import signed_through_head
from audit.fields import DOCUMENT_FIELDS
from audit.query import iter_documents

CSV_COLUMNS = DOCUMENT_FIELDS


def _line(kind: str, document: Mapping[str, Any]) -> str:
    # The same bytes as json.dumps(ensure_ascii=False, separators=(",", ":")) writes, faster.
    return orjson.dumps({kind: document}).decode() + "\n"


def _entry_line(document: Mapping[str, Any]) -> str:
    """An entry record with the entry in JCS, so a verifier can hash its bytes as they are."""
    return f'{{"entry":{canonical_json(document).decode()}}}\n'


def export_lines(*, session: Session, clock: Clock, origin: str) -> Iterator[str]:
    """The whole log as a verifiable export: a header (naming the log's origin), every entry,
    then every checkpoint, version 2 ones with the witnesses' cosignatures in their notes.

    The export stops at the head seen when it starts; entries appended meanwhile never make a
    checkpoint point past its end, and one that does is exported all the same, so that the
    export's verification reports it (see ``signed_through_head``).
    """
    checkpoints, through = signed_through_head(session)
    header = {"format": EXPORT_FORMAT, "exported_at": format_timestamp(clock()), "origin": origin}
    yield _line("header", header)
    for document in iter_documents(session=session, through=through):
        yield _entry_line(document)
    for checkpoint in checkpoints:
        yield _line("checkpoint", checkpoint)


def write_export(*, session: Session, out: IO[str], clock: Clock, origin: str) -> int:
    """Write a verifiable export to ``out``; returns the number of lines written."""
    count = 0
    for line in export_lines(session=session, clock=clock, origin=origin):
        out.write(line)
        count += 1
    return count


def ndjson_lines(entries: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """Officer export: one entry object per line (not a verifiable export when filtered)."""
    for entry in entries:
        yield json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"


def csv_lines(entries: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """Officer export as CSV (RFC 4180); list fields are joined with spaces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    for entry in entries:
        writer.writerow([_csv_value(entry.get(column)) for column in CSV_COLUMNS])
        yield _drain(buffer)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text

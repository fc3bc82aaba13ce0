"""Verifiable exports (NDJSON, docs/audit-format.md) and officer exports (NDJSON or CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from audit.chain import ENTRY_FIELDS, format_timestamp
from audit.checkpoint import checkpoint_document, iter_checkpoints
from audit.errors import MalformedExport
from audit.schemas import AuditQuery
from audit.service import entry_document, head, iter_documents, iter_entries
from audit.verify import Progress, VerifyReport, verify_log

EXPORT_FORMAT = "schakel-audit-export/1"
CSV_COLUMNS = (*ENTRY_FIELDS, "entry_hash")

Clock = Callable[[], datetime]


def _line(kind: str, document: Mapping[str, Any]) -> str:
    return json.dumps({kind: document}, ensure_ascii=False, separators=(",", ":")) + "\n"


def export_lines(*, session: Session, clock: Clock) -> Iterator[str]:
    """The whole log as a verifiable export: a header, every entry, then every checkpoint.

    The export stops at the head seen when it starts, so entries appended meanwhile never make
    a checkpoint point past its end.
    """
    last = head(session)
    through = last.seq if last is not None else 0
    yield _line("header", {"format": EXPORT_FORMAT, "exported_at": format_timestamp(clock())})
    for entry in iter_entries(session=session, query=AuditQuery()):
        if entry.seq > through:
            break
        yield _line("entry", entry_document(entry))
    for checkpoint in iter_checkpoints(session):
        if checkpoint.seq > through:
            break
        yield _line("checkpoint", checkpoint_document(checkpoint))


def write_export(*, session: Session, out: IO[str], clock: Clock) -> int:
    """Write a verifiable export to ``out``; returns the number of lines written."""
    count = 0
    for line in export_lines(session=session, clock=clock):
        out.write(line)
        count += 1
    return count


def _records(path: Path, kind: str) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
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
                or document.get("format") != EXPORT_FORMAT
            ):
                raise MalformedExport(
                    f"line {number}: the header must open the file ({EXPORT_FORMAT})"
                )
            if name == kind:
                yield document


def verify_export(path: Path, jwks: Mapping[str, Any]) -> VerifyReport:
    """Verify an export file offline with the published JWKS (current and retired keys)."""
    try:
        headers = list(_records(path, "header"))
        if not headers:
            raise MalformedExport(f"the export does not start with a {EXPORT_FORMAT} header")
        checkpoints = list(_records(path, "checkpoint"))
        return verify_log(_records(path, "entry"), checkpoints, jwks)
    except MalformedExport as error:
        return VerifyReport(
            ok=False, entries=0, checkpoints=0, last_seq=0, verified_through=0, problem=str(error)
        )


def verify_database(
    *, session: Session, jwks: Mapping[str, Any], progress: Progress | None = None
) -> VerifyReport:
    """Verify the log as stored, up to the head seen when the check starts."""
    last = head(session)
    through = last.seq if last is not None else 0
    checkpoints = [
        checkpoint_document(checkpoint)
        for checkpoint in iter_checkpoints(session)
        if checkpoint.seq <= through
    ]
    entries = iter_documents(session=session, through=through)
    return verify_log(entries, checkpoints, jwks, progress=progress)


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
        writer.writerow([_csv_value(entry[column]) for column in CSV_COLUMNS])
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

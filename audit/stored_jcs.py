"""The entry columns written back as the JCS bytes they were hashed as (docs/audit-format.md
§2), by the database itself: a row whose columns are not its stored bytes shows in one query.

Each writer gives text equal to the stored bytes exactly when the columns hold the values the
bytes do; a row spelled otherwise (a JSON value or a timestamp stored in another form) is
compared in Python by the caller (audit/verify_database.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.sql import ColumnElement, Select

from audit.fields import ENTRY_FIELDS, VERSIONS, Kind, fields_of, of_kind
from audit.models import AuditEntry


def sqlite_disagreeing() -> Select[tuple[int]]:
    """SQLite rows of seq up to the parameter ``through`` whose columns, as a JSON object, are
    not their stored bytes, at most ``limit`` of them (both bound when it runs)."""
    table = AuditEntry.__table__.c
    members: dict[str, ColumnElement[Any]] = {name: table[name] for name in ENTRY_FIELDS}
    for name in _TIMESTAMPS:
        stored = type_coerce(table[name], String)  # "YYYY-MM-DD HH:MM:SS.ffffff"
        members[name] = func.substr(stored, 1, 10) + "T" + func.substr(stored, 12) + "Z"
    for name in _TEXTS:
        # json() refuses text that is not JSON, and with it the statement: the careful reading
        # then decides, as it would for a row whose columns do not match its bytes.
        members[name] = func.json(type_coerce(table[name], String))
    written = case(
        *(
            (table.version == version, func.json_object(*_pairs(members, fields_of(version))))
            for version in VERSIONS
        ),
        else_=literal(None),
    )
    differs = table.canonical.is_not(written)
    through = bindparam("through", type_=BigInteger)
    return select(table.seq).where(table.seq <= through, differs).limit(bindparam("limit"))


def _pairs(members: Mapping[str, ColumnElement[Any]], names: Sequence[str]) -> list[Any]:
    """json_object's arguments for these members: name, value, name, value, … in JCS order."""
    return [item for name in sorted(names) for item in (literal(name), members[name])]


def postgresql_jcs(table: Any) -> ColumnElement[str]:
    """The columns written as JCS by PostgreSQL: sorted members, each value as valid JSON.

    A string JCS leaves as it is (no quote, backslash or control character) is put between
    quotes as it is; ``to_json``, which escapes as JCS does, writes the rows that hold any such
    string, at twice the cost. A JSON column is taken as stored (the gateway stores it compact).
    Every value is valid JSON on its own, so text equal to the stored bytes means the bytes
    hold exactly the columns' values; other spellings are compared in Python.
    """
    strings = [table[name] for name in ENTRY_FIELDS if name not in _NOT_STRINGS]
    needs_escapes = func.concat(*strings).regexp_match(_JSON_ESCAPED)
    return case(
        *(
            (
                table.version == version,
                case(
                    (needs_escapes, _postgresql_members(table, _escaped, fields_of(version))),
                    else_=_postgresql_members(table, _quoted, fields_of(version)),
                ),
            )
            for version in VERSIONS
        ),
        else_=literal(None),
    )


def _postgresql_members(
    table: Any, string: Callable[[ColumnElement[Any]], ColumnElement[Any]], names: Sequence[str]
) -> ColumnElement[str]:
    values: dict[str, ColumnElement[Any]] = {
        name: func.coalesce(string(table[name]), "null") for name in names
    }
    for name in _SEQS:
        values[name] = cast(table[name], Text)
    for name in _TIMESTAMPS:
        timestamp = func.to_char(func.timezone("UTC", table[name]), _PG_TIMESTAMP)
        values[name] = literal('"') + timestamp + literal('"')
    for name in _TEXTS:
        values[name] = cast(table[name], Text)
    pieces: list[ColumnElement[Any]] = []
    for number, name in enumerate(sorted(values)):
        pieces += [literal(("{" if number == 0 else ",") + f'"{name}":'), values[name]]
    return func.concat(*pieces, literal("}"))


def _escaped(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(func.to_json(column), Text)


def _quoted(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return literal('"') + column + literal('"')  # NULL stays NULL, then "null"


_SEQS, _TIMESTAMPS, _TEXTS = of_kind(Kind.SEQ), of_kind(Kind.TIMESTAMP), of_kind(Kind.TEXTS)
_NOT_STRINGS = frozenset((*_SEQS, *_TIMESTAMPS, *_TEXTS))
# What JCS escapes in a string (RFC 8785 §3.2.2.2): quote, backslash, U+0001..U+001F (PostgreSQL
# text holds no U+0000).
_JSON_ESCAPED = r'["\\\x01-\x1f]'  # a bracket of: quote, backslash, \x01 to \x1f
_PG_TIMESTAMP = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'

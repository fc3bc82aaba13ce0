"""Statements the verifier runs on the driver's own cursor, compiled once per database, and
connections of their own beside the verifying transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_T = TypeVar("_T")

# Statements compiled once per database: building and compiling the column checks' long
# expressions costs more than running them over a small log.
_COMPILED: dict[tuple[str, str, str], SQLCompiler] = {}


def compiled(engine: Engine, name: str, build: Callable[[], ClauseElement]) -> SQLCompiler:
    """The statement ``build`` makes, compiled for this engine's database the first time."""
    key = (name, engine.dialect.name, engine.dialect.driver)
    compiled = _COMPILED.get(key)
    if compiled is None:
        made = build().compile(dialect=engine.dialect)
        assert isinstance(made, SQLCompiler)
        compiled = _COMPILED[key] = made
    return compiled


def driver_parameters(compiled: SQLCompiler, values: Mapping[str, Any]) -> Any:
    """The parameters for the driver's own execute, in its paramstyle."""
    parameters = compiled.construct_params(dict(values))
    if compiled.positiontup is not None:
        return tuple(parameters[name] for name in compiled.positiontup)
    return parameters


def committed_through(dbapi_connection: Any, through: int) -> bool:
    """Whether a connection other than the verifying one sees every entry up to ``through``.

    Entries the verifying transaction wrote itself and has not committed are only visible to
    it; the careful reading, in that transaction, checks them.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT max(seq) FROM audit_entries")
        row = cursor.fetchone()
    finally:
        cursor.close()
    committed = row[0] if row else None
    return through == 0 or (committed is not None and committed >= through)


def apart(engine: Engine, work: Callable[[Any], _T]) -> _T:
    """``work`` on a DBAPI connection of its own, outside the verifying transaction.

    A plain DBAPI connection: on SQLite, an engine connection would begin with BEGIN IMMEDIATE
    and take the write lock.
    """
    connection = engine.raw_connection()
    try:
        return work(connection)
    finally:
        connection.rollback()
        connection.close()

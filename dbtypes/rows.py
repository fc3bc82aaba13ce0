"""Reads as plain rows on the transaction's connection, for statements on every request.

``Session.execute`` costs more per statement than the database's own work on these small reads
(ORM execution, events, autoflush), and the session's connection still pays for SQLAlchemy's
execution context (docs/performance.md has the figures). So a statement is compiled once per
dialect and then run on the driver's cursor of the transaction's connection, its parameters and
columns passing through the same type processors SQLAlchemy would use (UTC timestamps and JSON
columns on SQLite, for example). A list rendered per call (``IN (?, ?, ?)``) is expanded by
SQLAlchemy's ``construct_expanded_state``.

Rows are named tuples, not ORM objects: nothing is tracked and the identity map is neither read
nor filled. Connection events such as ``before_cursor_execute`` do not see these reads; writes
never take this path.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVarTuple, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.sqltypes import TupleType

Processor = Callable[[Any], Any]
Columns = TypeVarTuple("Columns")


class PlainRows:
    """The rows of one read, fetched: ``first()``, ``all()`` or iterate."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Sequence[Any]) -> None:
        self._rows = rows

    def first(self) -> Any:
        """The first row, or None when there is none."""
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        """Every row, in the statement's order."""
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


def plain_rows(
    session: Session, statement: Select[*Columns], parameters: Mapping[str, Any] | None = None
) -> PlainRows:
    """Run ``statement`` in the session's transaction; changes still pending are flushed first,
    as ``Session.execute`` would, so the read sees what this transaction wrote."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    connection = session.connection()
    reader = _reader(connection.dialect, statement)
    if reader is None:
        return PlainRows(connection.execute(statement, parameters).all())
    return PlainRows(reader.read(connection, parameters or {}))


@dataclass(frozen=True)
class _Reader:
    """One statement compiled for one dialect, with its parameter and column processors."""

    sql: str
    order: tuple[str, ...] | None  # parameter names in placeholder order; None: by name
    own_values: Mapping[str, Any]  # values the statement binds itself (a LIMIT, a constant)
    binds: Mapping[str, Processor]
    row: Callable[[Sequence[Any]], Any]
    columns: tuple[Processor | None, ...]
    expands: SQLCompiler | None  # set when a list is rendered per call, e.g. ``IN (?, ?, ?)``
    lists: frozenset[str]  # the names of the parameters given as lists, when shapes are kept
    shapes: dict[tuple[tuple[str, int], ...], _Shape] = field(default_factory=dict)

    def read(self, connection: Connection, parameters: Mapping[str, Any]) -> list[Any]:
        sql, order = self.sql, self.order
        if self.expands is None:
            values = {**self.own_values, **parameters}
            for name, process in self.binds.items():
                values[name] = process(values[name])
        elif (shape := self._shape(parameters)) is not None:
            sql, order, values = shape.sql, shape.order, shape.values(parameters)
        else:
            state = self.expands.construct_expanded_state(parameters, escape_names=False)
            sql, values = state.statement, dict(state.parameters)
            order = None if state.positiontup is None else tuple(state.positiontup)
            for name, process in state.processors.items():
                if name in values and callable(process):
                    values[name] = process(values[name])
        arguments = values if order is None else [values[name] for name in order]
        cursor = _cursor_of(connection)
        cursor.execute(sql, arguments)
        fetched = cursor.fetchall()
        make, columns = self.row, self.columns
        if not any(columns):
            return [make(row) for row in fetched]
        return [
            make(
                [
                    value if process is None else process(value)
                    for process, value in zip(columns, row, strict=True)
                ]
            )
            for row in fetched
        ]

    def _shape(self, parameters: Mapping[str, Any]) -> _Shape | None:
        """The statement expanded for lists of these lengths: the SQL depends on nothing else.

        None when no shape is kept: for this statement, or for a list given as a set or an
        iterator (expanded per read, as SQLAlchemy would).
        """
        if not self.lists:
            return None
        lengths = []
        for name, value in parameters.items():
            if name not in self.lists:
                lengths.append((name, -1))
            elif isinstance(value, list | tuple):
                lengths.append((name, len(value)))
            else:
                return None
        key = tuple(lengths)
        shape = self.shapes.get(key)
        if shape is None:
            assert self.expands is not None
            shape = self.shapes[key] = _Shape.of(self.expands, key)
        return shape


@dataclass(frozen=True)
class _Mark:
    """Stands for a value while a shape is made: the caller's parameter, and the list index."""

    name: str
    index: int  # -1: the parameter itself, not an item of its list


@dataclass(frozen=True)
class _Shape:
    """A statement expanded once by SQLAlchemy, and where each driver value comes from.

    Expanding (``construct_expanded_state``) is costly next to the read; the result depends only
    on the lengths of the lists, so it is made once per lengths with marks in place of the
    values, and each read only fills the values in. A shape is kept per distinct lengths: the
    lists read this way must be bounded (a disclosure asks for at most 32 categories).
    """

    sql: str
    order: tuple[str, ...] | None
    taken: tuple[tuple[str, str, int], ...]  # driver name, the caller's name, list index or -1
    constants: Mapping[str, Any]  # values the statement binds itself
    processors: Mapping[str, Processor]

    @classmethod
    def of(cls, compiled: SQLCompiler, lengths: tuple[tuple[str, int], ...]) -> _Shape:
        marks = {
            name: _Mark(name, -1) if length < 0 else [_Mark(name, i) for i in range(length)]
            for name, length in lengths
        }
        state = compiled.construct_expanded_state(marks, escape_names=False)
        taken = tuple(
            (name, value.name, value.index)
            for name, value in state.parameters.items()
            if isinstance(value, _Mark)
        )
        return cls(
            sql=state.statement,
            order=None if state.positiontup is None else tuple(state.positiontup),
            taken=taken,
            constants={
                name: value
                for name, value in state.parameters.items()
                if not isinstance(value, _Mark)
            },
            processors={
                name: process
                for name, process in state.processors.items()
                if name in state.parameters and callable(process)
            },
        )

    def values(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(self.constants)
        for name, given, index in self.taken:
            value = parameters[given]
            values[name] = value if index < 0 else value[index]
        for name, process in self.processors.items():
            values[name] = process(values[name])
        return values


_CURSOR = "dbtypes.rows.cursor"


def _cursor_of(connection: Connection) -> Any:
    """The driver cursor kept for reads on this driver connection (one made per read cost more
    than a read); the pool drops it with the connection's info when the connection goes."""
    pooled = connection.connection
    cursor = pooled.info.get(_CURSOR)
    if cursor is None:
        cursor = pooled.info[_CURSOR] = pooled.dbapi_connection.cursor()  # type: ignore[union-attr]
    return cursor


# Per dialect (an engine's, with its JSON settings), per statement (built once at import).
_READERS: weakref.WeakKeyDictionary[Dialect, dict[Any, _Reader | None]] = (
    weakref.WeakKeyDictionary()
)


def _reader(dialect: Dialect, statement: Select[*Columns]) -> _Reader | None:
    known = _READERS.setdefault(dialect, {})
    if statement not in known:
        known[statement] = _compile(dialect, statement)
    return known[statement]


def _compile(dialect: Dialect, statement: Select[*Columns]) -> _Reader | None:
    """The reader of ``statement``, or None when its parameter names need escaping."""
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if compiled.escaped_bind_names:  # names the driver sees differ from the statement's
        return None
    rendered_per_call = compiled.post_compile_params or compiled.literal_execute_params
    selected = statement.selected_columns
    make_row_type: Any = namedtuple  # its fields are known only here
    row_type = make_row_type("Row", [str(column.key) for column in selected], rename=True)
    return _Reader(
        sql=compiled.string,
        order=tuple(compiled.positiontup or ()) if compiled.positional else None,
        own_values={
            name: bind.value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.callable is None
        },
        binds=cast(dict[str, Processor], dict(compiled._bind_processors)),  # no public spelling
        row=row_type._make,
        columns=tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
        ),
        expands=compiled if rendered_per_call else None,
        lists=_kept_shapes(compiled),
    )


def _kept_shapes(compiled: SQLCompiler) -> frozenset[str]:
    """The lists a statement expands, when its shapes can be kept: none rendered as literals
    (their values are part of the SQL), none of tuples (``(a, b) IN ((?, ?), …)``)."""
    if compiled.literal_execute_params:
        return frozenset()
    expanding = [bind for bind in compiled.post_compile_params if bind.expanding]
    if any(isinstance(bind.type, TupleType) for bind in expanding):
        return frozenset()
    return frozenset(bind.key for bind in expanding)

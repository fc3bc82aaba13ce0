"""Plain rows on the driver's cursor give what SQLAlchemy's own execution gives, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, Engine, String, bindparam, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from dbtypes import UTCDateTime
from dbtypes.rows import _reader, plain_rows
from gateway.core.db import make_engine, make_sessionmaker, transaction

AT = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)


class _Base(DeclarativeBase):
    pass


class Thing(_Base):
    __tablename__ = "things"
    id: Mapped[str] = mapped_column(String(8), primary_key=True)
    n: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    tags: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str | None]


BY_OWNER_AFTER = (
    select(Thing.id, Thing.n, Thing.at, Thing.tags, Thing.note)
    .where(Thing.at > bindparam("after"))
    .order_by(Thing.n.desc())
    .limit(2)
)
WITH_CONSTANT_LIST = select(Thing.id).where(Thing.id.in_(["a", "c"])).order_by(Thing.id)
WITH_LIST_PER_CALL = (
    select(Thing.id).where(Thing.id.in_(bindparam("ids", expanding=True))).order_by(Thing.id)
)
WITH_ESCAPED_NAME = select(Thing.id, Thing.n).where(Thing.id == bindparam("the id"))
COUNT = select(func.count(Thing.id))


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine: Engine = make_engine(database_url)
    _Base.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        for n, name in enumerate("abcd"):
            note = None if name == "b" else f"note é {name}"
            at = AT + timedelta(minutes=n)
            session.add(Thing(id=name, n=n, at=at, tags=[name, "ü"], note=note))
    yield sessions
    _Base.metadata.drop_all(engine)
    engine.dispose()


def test_rows_equal_sqlalchemy_execution_with_types_processed(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        parameters = {"after": AT}
        expected = session.connection().execute(BY_OWNER_AFTER, parameters).all()
        rows = plain_rows(session, BY_OWNER_AFTER, parameters).all()
        assert _reader(session.connection().dialect, BY_OWNER_AFTER) is not None
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    assert [row.id for row in rows] == ["d", "c"]  # the statement's own LIMIT 2 is bound
    first = rows[0]
    assert first.at == AT + timedelta(minutes=3) and first.at.tzinfo is not None
    assert first.tags == ["d", "ü"]
    assert first.note == "note é d"


def test_first_is_none_without_rows_and_iteration_gives_every_row(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        assert (
            plain_rows(session, BY_OWNER_AFTER, {"after": AT + timedelta(days=1)}).first() is None
        )
        assert [row.n for row in plain_rows(session, BY_OWNER_AFTER, {"after": AT})] == [3, 2]
        assert plain_rows(session, COUNT).first()[0] == 4


def test_a_null_column_stays_none(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        rows = plain_rows(session, BY_OWNER_AFTER, {"after": AT}).all()
        session.get(Thing, "c").note = None  # type: ignore[union-attr]
        after_change = plain_rows(session, BY_OWNER_AFTER, {"after": AT}).all()
    assert rows[1].note == "note é c"
    assert after_change[1].note is None  # and the pending change was flushed before the read


def test_lists_rendered_per_execution_are_expanded(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        connection = session.connection()
        assert _reader(connection.dialect, WITH_LIST_PER_CALL) is not None
        parameters = {"ids": ["b", "d", "x"]}
        ids = plain_rows(session, WITH_LIST_PER_CALL, parameters).all()
        expected = connection.execute(WITH_LIST_PER_CALL, parameters).all()
        constant = plain_rows(session, WITH_CONSTANT_LIST).all()
        assert plain_rows(session, WITH_LIST_PER_CALL, {"ids": []}).all() == []
    assert [row.id for row in ids] == [row.id for row in expected] == ["b", "d"]
    assert [row.id for row in constant] == ["a", "c"]


def test_a_list_is_expanded_once_per_length_and_filled_in_with_each_reads_values(
    sessions: sessionmaker[Session],
) -> None:
    asked: list[Any] = [["a", "c"], [], ["b", "d"], ["d"], ["c", "x", "a"], ("d", "b"), {"a", "b"}]
    with transaction(sessions) as session:
        connection = session.connection()
        for ids in asked:
            rows = plain_rows(session, WITH_LIST_PER_CALL, {"ids": ids}).all()
            expected = connection.execute(WITH_LIST_PER_CALL, {"ids": ids}).all()
            assert (
                [row.id for row in rows]
                == [row.id for row in expected]
                == sorted(set(ids) & set("abcd"))
            )
        reader = _reader(connection.dialect, WITH_LIST_PER_CALL)
    # Lengths 2, 0, 1 and 3 (a tuple as a list); a set is expanded per read.
    assert reader is not None and len(reader.shapes) == 4


def test_parameter_names_the_driver_cannot_take_go_through_sqlalchemy(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        assert _reader(session.connection().dialect, WITH_ESCAPED_NAME) is None
        row = plain_rows(session, WITH_ESCAPED_NAME, {"the id": "c"}).first()
    assert (row.id, row.n) == ("c", 2)


def test_a_write_of_this_transaction_is_read(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        session.add(Thing(id="e", n=9, at=AT + timedelta(hours=1), tags=[], note=None))
        newest = plain_rows(session, BY_OWNER_AFTER, {"after": AT}).first()
    assert (newest.id, newest.tags, newest.note) == ("e", [], None)

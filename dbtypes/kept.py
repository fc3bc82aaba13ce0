"""Values kept for the life of one database transaction: what it has read or learnt once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

Kept = TypeVar("Kept")


def kept_for_transaction(session: Session, key: str, make: Callable[[], Kept]) -> Kept | None:
    """The value kept under ``key`` for the session's current transaction, made on first use.

    A new transaction of the same session starts with a new value; None when no transaction
    has begun. Rolling back a savepoint does not drop the value: callers that keep what a
    savepoint may undo must see to that themselves.
    """
    current = session.get_transaction()
    if current is None:
        return None
    kept: tuple[object, Kept] | None = session.info.get(key)
    if kept is None or kept[0] is not current:
        kept = session.info[key] = (current, make())
    return kept[1]

"""Store and read contributions; erase a participant by destroying their data key.

Each participant has an AES-256-GCM data key, wrapped by the KEK. A contribution's fields are
sealed with it, the associated data binding contribution id, participant and category, so a
ciphertext moved to another row does not open. Destroying the data key makes every contribution
of that participant unreadable everywhere, backups included (crypto-shredding).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dbtypes.rows import plain_rows
from gateway.storage.kek import Kek, KekRing
from gateway.storage.models import Contribution, DataKey


class ParticipantErased(Exception):
    """The participant's data key was destroyed: their contributions are gone."""


class SealedDataUnreadable(Exception):
    """A contribution does not open: wrong key, or its ciphertext was moved or altered."""


@dataclass(frozen=True)
class CaseItem:
    """One decrypted contribution."""

    id: str
    category: str
    source_party: str
    source_domain: str
    observed_at: datetime
    fields: dict[str, Any]


def _aad(contribution_id: str, participant_id: str, category: str) -> bytes:
    return json.dumps([contribution_id, participant_id, category]).encode("utf-8")


def data_key(session: Session, keks: KekRing, participant_id: str, now: datetime) -> bytes:
    """The participant's data key, created on first use; refused once destroyed."""
    row = session.get(DataKey, participant_id, with_for_update=True)
    if row is None:
        key = AESGCM.generate_key(bit_length=256)
        values = {
            "participant_id": participant_id,
            "wrapped_key": keks.primary.wrap(key, participant_id),
            "kek_id": keks.primary.kek_id,
            "created_at": now,
        }
        # Two first contributions at once: one key wins, the other request uses it.
        insert = (
            postgresql_insert
            if session.bind and session.bind.dialect.name == "postgresql"
            else sqlite_insert
        )
        session.execute(insert(DataKey).values(**values).on_conflict_do_nothing())
        row = session.get(DataKey, participant_id, with_for_update=True, populate_existing=True)
        assert row is not None
    if row.wrapped_key is None or row.kek_id is None:
        raise ParticipantErased(f"participant {participant_id} was erased")
    return keks.for_id(row.kek_id).unwrap(row.wrapped_key, participant_id)


def store_contribution(
    *,
    session: Session,
    keks: KekRing,
    participant_id: str,
    category: str,
    source_party: str,
    source_domain: str,
    observed_at: datetime,
    fields: dict[str, Any],
    now: datetime,
    key: bytes | None = None,
) -> Contribution:
    """Seal and add one contribution in the caller's transaction; ``key``, when the caller
    already holds the participant's data key (several contributions at once)."""
    key = key or data_key(session, keks, participant_id, now)
    contribution_id = str(uuid.uuid4())
    nonce = os.urandom(12)
    plaintext = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")
    sealed = nonce + AESGCM(key).encrypt(
        nonce, plaintext, _aad(contribution_id, participant_id, category)
    )
    row = Contribution(
        id=contribution_id,
        participant_id=participant_id,
        category=category,
        source_party=source_party,
        source_domain=source_domain,
        observed_at=observed_at,
        received_at=now,
        sealed_fields=sealed,
    )
    session.add(row)
    session.flush()
    return row


class _SealedRow(Protocol):
    """A row of _CONTRIBUTIONS: a contribution, and the participant's wrapped data key with it."""

    id: str
    participant_id: str
    category: str
    source_party: str
    source_domain: str
    observed_at: datetime
    sealed_fields: bytes
    wrapped_key: bytes | None
    kek_id: str | None


# Built once: it runs on every disclosure, where building it cost more than running it. Plain
# rows, not ORM objects: they are only read and decrypted, never changed. The data key comes
# in the same round trip (the same on every row; none once erased).
_CONTRIBUTIONS = (
    select(
        Contribution.id,
        Contribution.participant_id,
        Contribution.category,
        Contribution.source_party,
        Contribution.source_domain,
        Contribution.observed_at,
        Contribution.sealed_fields,
        DataKey.wrapped_key,
        DataKey.kek_id,
    )
    .join(DataKey, DataKey.participant_id == Contribution.participant_id, isouter=True)
    .where(Contribution.participant_id == bindparam("participant_id"))
    .where(Contribution.category.in_(bindparam("categories", expanding=True)))
    .order_by(Contribution.observed_at.desc(), Contribution.received_at.desc())
)


def latest_items(
    *, session: Session, keks: KekRing, participant_id: str, categories: Sequence[str]
) -> list[CaseItem]:
    """The most recent contribution per category and source, decrypted; none once erased.

    Per source, because two parties may hold different facts in one category (UWV's WIA benefit
    and the municipality's Participatiewet benefit are both ``income.benefit``).
    """
    rows = plain_rows(
        session, _CONTRIBUTIONS, {"participant_id": participant_id, "categories": list(categories)}
    ).all()
    latest: dict[tuple[str, str], _SealedRow] = {}
    for row in rows:
        latest.setdefault((row.category, row.source_party), row)
    if not latest:
        return []
    key_row = rows[0]
    if key_row.wrapped_key is None or key_row.kek_id is None:
        return []
    cipher = AESGCM(keks.for_id(key_row.kek_id).unwrap(key_row.wrapped_key, participant_id))
    return [_open(cipher, row) for _, row in sorted(latest.items())]


def _open(cipher: AESGCM, row: _SealedRow) -> CaseItem:
    nonce, sealed = row.sealed_fields[:12], row.sealed_fields[12:]
    try:
        plaintext = cipher.decrypt(nonce, sealed, _aad(row.id, row.participant_id, row.category))
    except InvalidTag:
        raise SealedDataUnreadable(f"contribution {row.id} does not open") from None
    return CaseItem(
        id=row.id,
        category=row.category,
        source_party=row.source_party,
        source_domain=row.source_domain,
        observed_at=row.observed_at,
        fields=json.loads(plaintext),
    )


def items_in_categories(
    *,
    session: Session,
    keks: KekRing,
    categories: Sequence[str],
    participant_ids: Collection[str] | None = None,
) -> dict[str, list[CaseItem]]:
    """Every contribution in ``categories`` of every participant (or of ``participant_ids``),
    decrypted, by participant; participants who were erased are left out (their key is gone)."""
    query = (
        select(
            Contribution.id, Contribution.participant_id, Contribution.category,
            Contribution.source_party, Contribution.source_domain, Contribution.observed_at,
            Contribution.sealed_fields, DataKey.wrapped_key, DataKey.kek_id,
        )
        .join(DataKey, DataKey.participant_id == Contribution.participant_id)
        .where(Contribution.category.in_(list(categories)))
        .where(DataKey.wrapped_key.is_not(None))
        .order_by(Contribution.participant_id, Contribution.observed_at, Contribution.received_at)
    )  # fmt: skip
    if participant_ids is not None:
        query = query.where(Contribution.participant_id.in_(list(participant_ids)))
    found: dict[str, list[CaseItem]] = {}
    ciphers: dict[str, AESGCM] = {}
    for row in plain_rows(session, query).all():
        cipher = ciphers.get(row.participant_id)
        if cipher is None:
            assert row.wrapped_key is not None and row.kek_id is not None
            key = keks.for_id(row.kek_id).unwrap(row.wrapped_key, row.participant_id)
            cipher = ciphers[row.participant_id] = AESGCM(key)
        found.setdefault(row.participant_id, []).append(_open(cipher, row))
    return found


def erase_participant(*, session: Session, participant_id: str, now: datetime) -> bool:
    """Destroy the data key (crypto-shredding); True if there was one to destroy."""
    row = session.get(DataKey, participant_id, with_for_update=True)
    if row is None:
        session.add(
            DataKey(
                participant_id=participant_id,
                wrapped_key=None,
                kek_id=None,
                created_at=now,
                destroyed_at=now,
            )
        )
        session.flush()
        return False
    destroyed = row.wrapped_key is not None
    row.wrapped_key = None
    row.kek_id = None
    row.destroyed_at = row.destroyed_at or now
    session.flush()
    return destroyed


def rewrap_batch(*, session: Session, old: Kek, new: Kek, limit: int = 500) -> int:
    """Re-wrap up to ``limit`` data keys still under ``old``; the caller commits per batch."""
    rows = session.scalars(
        select(DataKey).where(DataKey.kek_id == old.kek_id).limit(limit).with_for_update()
    ).all()
    for row in rows:
        assert row.wrapped_key is not None
        row.wrapped_key = new.wrap(
            old.unwrap(row.wrapped_key, row.participant_id), row.participant_id
        )
        row.kek_id = new.kek_id
    session.flush()
    return len(rows)


def participants_idle_since(*, session: Session, cutoff: datetime) -> list[str]:
    """Participants holding a live data key whose newest contribution is older than ``cutoff``."""
    newest = (
        select(Contribution.participant_id, func.max(Contribution.received_at).label("newest"))
        .group_by(Contribution.participant_id)
        .subquery()
    )
    rows = session.execute(
        select(DataKey.participant_id)
        .join(newest, newest.c.participant_id == DataKey.participant_id)
        .where(DataKey.wrapped_key.is_not(None))
        .where(newest.c.newest < cutoff)
        .order_by(DataKey.participant_id)
    )
    return [row[0] for row in rows]

"""The identity vault: enrol and resolve participants by BSN or by a domain pseudonym."""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bsn import is_valid_bsn
from gateway.identity.keys import IdentityKeys
from gateway.identity.models import DomainPseudonym, Participant

AUDIT_DOMAIN = "audit"


def blind_index(keys: IdentityKeys, bsn: str) -> str:
    """A keyed hash of the BSN: equal BSNs match, yet the index alone reveals nothing."""
    return hmac.new(keys.blind_index_key, bsn.encode("ascii"), hashlib.sha256).hexdigest()


def pseudonym(keys: IdentityKeys, domain: str, participant_id: str) -> str:
    """``HMAC-SHA256(domain_key, participant_id)``: stable within a domain, unlinkable across."""
    key = keys.pseudonym_key(domain)
    return hmac.new(key, participant_id.encode("ascii"), hashlib.sha256).hexdigest()


class ParticipantRef(Protocol):
    """A participant as a partner's request needs it: its id (a row or the entity)."""

    @property
    def id(self) -> str: ...


@dataclass(frozen=True)
class ParticipantId:
    """A participant known by id alone (a ParticipantRef without a row read)."""

    id: str


# Built once, with bound parameters: partner requests resolve a participant on every call.
_BY_BSN_INDEX = select(Participant).where(Participant.bsn_index == bindparam("index"))
ID_BY_BSN_INDEX = select(Participant.id).where(Participant.bsn_index == bindparam("index"))
ID_BY_ID = select(Participant.id).where(Participant.id == bindparam("participant_id"))
ID_BY_PSEUDONYM = (
    select(Participant.id)
    .join(DomainPseudonym, DomainPseudonym.participant_id == Participant.id)
    .where(DomainPseudonym.domain == bindparam("domain"))
    .where(DomainPseudonym.pseudonym == bindparam("pseudonym"))
)


def find_by_bsn(session: Session, keys: IdentityKeys, bsn: str) -> Participant | None:
    return session.scalars(_BY_BSN_INDEX, {"index": blind_index(keys, bsn)}).first()


def find_by_pseudonym(session: Session, domain: str, value: str) -> Participant | None:
    row = session.get(DomainPseudonym, (domain, value.lower()))
    return None if row is None else session.get(Participant, row.participant_id)


def enrol(
    *, session: Session, keys: IdentityKeys, bsn: str, domains: Iterable[str], now: datetime
) -> Participant:
    """The participant with this BSN, enrolled now if new; the BSN must pass the 11-proof."""
    if not is_valid_bsn(bsn):
        raise ValueError("not a valid BSN (nine digits passing the 11-proof)")
    existing = find_by_bsn(session, keys, bsn)
    if existing is not None:
        return existing
    participant_id = str(uuid.uuid4())
    nonce = os.urandom(12)
    ciphertext = nonce + AESGCM(keys.vault_key).encrypt(
        nonce, bsn.encode("ascii"), participant_id.encode("ascii")
    )
    participant = Participant(
        id=participant_id,
        bsn_index=blind_index(keys, bsn),
        bsn_ciphertext=ciphertext,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(participant)
            session.flush()  # the pseudonyms refer to it
            for domain in {*domains, AUDIT_DOMAIN}:
                session.add(
                    DomainPseudonym(
                        domain=domain,
                        pseudonym=pseudonym(keys, domain, participant_id),
                        participant_id=participant_id,
                    )
                )
    except IntegrityError:
        # Enrolled by a concurrent request in the meantime: use that one.
        found = find_by_bsn(session, keys, bsn)
        if found is None:
            raise
        return found
    return participant


def ensure_pseudonyms(
    *, session: Session, keys: IdentityKeys, participant_id: str, domains: Iterable[str]
) -> None:
    """The domain pseudonyms of a participant enrolled before a domain joined the catalogue, so
    that a party of that domain can name them too."""
    held = set(
        session.scalars(
            select(DomainPseudonym.domain).where(DomainPseudonym.participant_id == participant_id)
        )
    )
    for domain in sorted(set(domains) - held):
        try:
            with session.begin_nested():
                session.add(
                    DomainPseudonym(
                        domain=domain,
                        pseudonym=pseudonym(keys, domain, participant_id),
                        participant_id=participant_id,
                    )
                )
                session.flush()
        except IntegrityError:
            continue  # added by a concurrent request meanwhile


def reveal_bsn(keys: IdentityKeys, participant: Participant) -> str:
    """Decrypt the BSN; the participant id is the associated data, so rows cannot be swapped."""
    nonce, sealed = participant.bsn_ciphertext[:12], participant.bsn_ciphertext[12:]
    return AESGCM(keys.vault_key).decrypt(nonce, sealed, participant.id.encode("ascii")).decode()

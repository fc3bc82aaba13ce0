"""Registry rules: adding, listing, disabling partner systems."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from dbtypes.rows import plain_rows
from gateway.auth.jwks import parse_partner_jwks
from gateway.core.catalogue import Catalogue, check_party_id
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.registry.models import Party

_PARTY = select(Party).where(Party.id == bindparam("party_id"))
# Built once: every partner request checks the standing of its party.
_STANDING = select(Party.id, Party.domain, Party.roles, Party.purposes, Party.enabled).where(
    Party.id == bindparam("party_id")
)


class PartyStanding(Protocol):
    """What a request needs to know of its party: who, which domain, what it may do."""

    @property
    def id(self) -> str: ...

    @property
    def domain(self) -> str: ...

    @property
    def roles(self) -> list[str]: ...

    @property
    def purposes(self) -> list[str]: ...

    @property
    def enabled(self) -> bool: ...


def find_party(session: Session, party_id: str) -> Party | None:
    return session.scalars(_PARTY, {"party_id": party_id}).first()


def party_standing(session: Session, party_id: str) -> PartyStanding | None:
    """As :func:`find_party`, as a plain row (read on every partner request)."""
    row: PartyStanding | None = plain_rows(session, _STANDING, {"party_id": party_id}).first()
    return row


def list_parties(session: Session) -> Sequence[Party]:
    return session.scalars(select(Party).order_by(Party.id)).all()


def add_party(
    *,
    session: Session,
    catalogue: Catalogue,
    party_id: str,
    domain: str,
    display_name: str,
    jwks: dict[str, Any],
    purposes: Sequence[str],
    roles: Sequence[str],
    now: datetime,
) -> Party:
    """Register a partner system after checking its domain, roles, purposes and keys."""
    check_party_id(party_id)
    catalogue.check_party_profile(domain=domain, roles=roles, purposes=purposes)
    try:
        parse_partner_jwks(jwks)
    except ValueError as error:
        raise InvalidInput(str(error), field="jwks") from None
    if find_party(session, party_id) is not None:
        raise Conflict(f"party {party_id!r} is already registered")
    party = Party(
        id=party_id,
        domain=domain,
        display_name=display_name,
        jwks=jwks,
        purposes=sorted(set(purposes)),
        roles=sorted(set(roles)),
        enabled=True,
        created_at=now,
    )
    session.add(party)
    session.flush()
    return party


def disable_party(*, session: Session, party_id: str, now: datetime) -> Party:
    """Stop a party from authenticating; tokens it holds stop working at the next request."""
    party = find_party(session, party_id)
    if party is None:
        raise NotFound(f"no party {party_id!r}")
    party.enabled = False
    party.disabled_at = now
    session.flush()
    return party

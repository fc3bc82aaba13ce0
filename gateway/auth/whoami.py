"""Partner-facing basics: who the gateway takes the caller to be."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.deps import PartnerDep

router = APIRouter(prefix="/v1", tags=["partners"])


class CallerView(BaseModel):
    party: str
    domain: str
    roles: list[str]
    purposes: list[str]


@router.get("/whoami", summary="The party, domain, roles and purposes of the access token")
def whoami(caller: PartnerDep) -> CallerView:
    return CallerView(
        party=caller.party,
        domain=caller.domain,
        roles=list(caller.roles),
        purposes=list(caller.purposes),
    )

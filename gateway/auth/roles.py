"""The roles the gateway itself checks; the catalogue holds the roles the policies decide on."""

from __future__ import annotations

from gateway.auth.access_tokens import Caller
from gateway.errors import Forbidden

OFFICER_ROLE = "privacy-officer"
# The gateway operator's own officer: sees the whole log. Held only where configured explicitly.
REGIONAL_OFFICER_ROLE = "regional-privacy-officer"
OFFICER_ROLES = frozenset({OFFICER_ROLE, REGIONAL_OFFICER_ROLE})
OPERATOR_ROLE = "operator"


def require_role(caller: Caller, role: str, refusal: str) -> None:
    """403 unless the caller's party holds ``role`` (checked on every request, not in the token)."""
    if role not in caller.roles:
        raise Forbidden(refusal)

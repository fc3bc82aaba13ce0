"""Builds the policy engine's input (docs/architecture.md, "The policy decision contract") from what is in force."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from consent.service import Grant


def decision_input(
    *,
    party: str,
    domain: str,
    role: str,
    purpose: str,
    categories: Sequence[str],
    consents: Iterable[Grant],
    director: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Only consents in force are passed; the policy checks grantee, purpose and categories."""
    return {
        "requester": {"party": party, "domain": domain, "role": role},
        "purpose": purpose,
        "categories": sorted(set(categories)),
        "subject": {
            "consents": [
                {
                    "id": consent.id,
                    "grantee": consent.grantee,
                    "purpose": consent.purpose,
                    "categories": list(consent.categories),
                    "in_force": True,
                }
                for consent in consents
            ],
            "director": director,
        },
        "now": now.isoformat().replace("+00:00", "Z"),
    }

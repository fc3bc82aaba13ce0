"""Builds the policy engine's input (docs/architecture.md, "The policy decision contract") from what is in force."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
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
    context: Mapping[str, Any] | None = None,
    subject_context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Only consents in force are passed; the policy checks grantee, purpose and categories.

    ``context`` adds members at the top (``conference``), ``subject_context`` under ``subject``
    (``conference_consents``): what a reader's frame read besides the case.
    """
    return {
        **(context or {}),
        "requester": {"party": party, "domain": domain, "role": role},
        "purpose": purpose,
        "categories": sorted(set(categories)),
        "subject": {
            **(subject_context or {}),
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
        "now": rfc3339(now),
    }


def rfc3339(at: datetime) -> str:
    """An instant as the policy input writes it: RFC 3339 in UTC, ``Z`` for the offset."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")

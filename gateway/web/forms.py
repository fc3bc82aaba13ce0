"""Form errors as a person reads them: one sentence beside the field that caused it.

A domain refusal names its field (``InvalidConsent.field``); here it becomes a message key of
``gateway.web.portal_words``. Nothing of a validation library's text ever reaches a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from consent.errors import InvalidConsent

# The field an InvalidConsent names, and whether it was missing or not known, as a message key.
UNKNOWN = {
    "grantee": "err_grantee_unknown",
    "purpose": "err_purpose_unknown",
    "categories": "err_categories_unknown",
    "valid_from": "err_period",
    "valid_until": "err_period",
}


@dataclass(frozen=True)
class FormErrors:
    """The errors of one form on a page: ``form`` is its id, ``fields`` maps a field (or
    ``general``) to the sentence shown beside it, ``kept`` holds what the person chose."""

    form: str
    fields: dict[str, str]
    kept: dict[str, list[str]] = field(default_factory=dict)
    link: str | None = None


def field_of(error: InvalidConsent) -> tuple[str, str]:
    """The form field an InvalidConsent is about, and the message key that explains it."""
    name = error.field if error.field in UNKNOWN else "general"
    target = "general" if name in ("valid_from", "valid_until", "purpose") else name
    return target, UNKNOWN.get(name, "err_purpose_unknown")

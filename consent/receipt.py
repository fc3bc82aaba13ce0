"""Consent receipts: the ISO/IEC TS 27560 consent-record fields, signed as a JWS (RFC 7515).

The participant keeps the receipt as proof; anyone can verify it with the gateway's published
JWKS alone. The subject is named by a pseudonym, never by BSN.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.jwk import OKPKey

from consent.schemas import ConsentEventView, ConsentView

RECEIPT_TYPE = "consent-receipt+jwt"
SCHEMA_VERSION = "ISO/IEC TS 27560:2023"


def receipt_claims(
    consent: ConsentView,
    *,
    events: list[ConsentEventView],
    subject_pseudonym: str,
    controller: str,
    issued_at: datetime,
) -> dict[str, Any]:
    """The consent record: who consented to what, for which purpose, to whom, how and until when."""
    return {
        "schema_version": SCHEMA_VERSION,
        "record_id": f"{consent.id}#v{consent.version}",
        "record_issued_at": issued_at.isoformat(),
        "pii_principal_id": subject_pseudonym,
        "controller": controller,
        "presented_to": consent.grantee,
        "recipients": [{"id": consent.grantee, "kind": consent.grantee_kind}],
        "purposes": [
            {
                "purpose": consent.purpose,
                "legal_basis": "GDPR Art. 6(1)(a) and Art. 9(2)(a): explicit consent",
                "pii_categories": consent.categories,
                "processing": ["disclosure"],
            }
        ],
        "consent_type": "explicit",
        "notice_method": "schakel participant portal",
        "given_by": consent.given_by.value,
        "representative_role": consent.representative_role,
        "evidence_ref": consent.evidence_ref,
        "recorded_by": consent.recorded_by,
        "validity": {
            "from": consent.valid_from.isoformat(),
            "until": consent.valid_until.isoformat() if consent.valid_until else None,
        },
        "status": consent.status.value,
        "withdrawal_method": "at any time, as easily as given: POST /v1/me/consents/{id}/revocation",
        "event_history": [
            {"event": event.kind, "at": event.at.isoformat(), "by": event.actor} for event in events
        ],
    }


def sign_receipt(claims: dict[str, Any], key: OKPKey) -> str:
    """A compact JWS over the JSON claims, EdDSA, with the key's ``kid`` for the JWKS look-up."""
    header = {"alg": "EdDSA", "typ": RECEIPT_TYPE, "kid": key.kid}
    payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return jws.serialize_compact(header, payload, key, algorithms=["EdDSA"])

"""HL7 FHIR R4 ``Consent`` rendering, validated with the R4B models (R4's shape for Consent)."""

from __future__ import annotations

from typing import Any

from consent.schemas import ConsentStatus, ConsentView
from fhirsystems import (
    ACT_CODE,
    AUDIT_PSEUDONYM,
    CATEGORY,
    CONSENT,
    CONSENT_SCOPE,
    DOMAIN,
    LOINC,
    PARTICIPATION_TYPE,
    PARTY,
    PURPOSE,
)

# FHIR R4 Consent.status: active | inactive | rejected | proposed | draft | entered-in-error.
_STATUS = {
    ConsentStatus.ACTIVE: "active",
    ConsentStatus.PENDING: "proposed",
    ConsentStatus.EXPIRED: "inactive",
    ConsentStatus.REVOKED: "inactive",
    ConsentStatus.SUPERSEDED: "inactive",
}


def consent_resource(consent: ConsentView, *, subject_pseudonym: str) -> dict[str, Any]:
    """The consent as an R4 Consent (privacy scope, opt-in, one permit provision).

    ``subject_pseudonym`` is the participant's audit-domain pseudonym, as in the audit log.
    """
    grantee_system = PARTY if consent.grantee_kind == "party" else DOMAIN
    period: dict[str, str] = {"start": consent.valid_from.isoformat()}
    if consent.valid_until is not None:
        period["end"] = consent.valid_until.isoformat()
    document: dict[str, Any] = {
        "resourceType": "Consent",
        "id": consent.id,
        "meta": {"versionId": str(consent.version)},
        "identifier": [{"system": CONSENT, "value": consent.id}],
        "status": _STATUS[consent.status],
        "scope": {
            "coding": [
                {
                    "system": CONSENT_SCOPE,
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [
            {"coding": [{"system": LOINC, "code": "59284-0", "display": "Consent Document"}]}
        ],
        "patient": {"identifier": {"system": AUDIT_PSEUDONYM, "value": subject_pseudonym}},
        "dateTime": consent.created_at.isoformat(),
        "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN"}]},
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": PARTICIPATION_TYPE,
                                "code": "IRCP",
                                "display": "information recipient",
                            }
                        ]
                    },
                    "reference": {
                        "identifier": {"system": grantee_system, "value": consent.grantee}
                    },
                }
            ],
            "purpose": [{"system": PURPOSE, "code": consent.purpose}],
            "class": [{"system": CATEGORY, "code": c} for c in consent.categories],
        },
    }
    if consent.evidence_ref:
        document["sourceReference"] = {"display": consent.evidence_ref}
    from fhir.resources.R4B.consent import (
        Consent as FhirConsent,  # R4B's models cost ~5 MB: loaded on first use
    )

    return FhirConsent.model_validate(document).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )

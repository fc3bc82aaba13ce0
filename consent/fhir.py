"""HL7 FHIR R4 ``Consent`` rendering, validated with the R4B models (R4's shape for Consent)."""

from __future__ import annotations

from typing import Any

from consent.schemas import ConsentStatus, ConsentView

PURPOSE_SYSTEM = "https://schakel.nl/fhir/CodeSystem/purpose"
CATEGORY_SYSTEM = "https://schakel.nl/fhir/CodeSystem/data-category"
PARTY_SYSTEM = "https://schakel.nl/fhir/NamingSystem/party"
DOMAIN_SYSTEM = "https://schakel.nl/fhir/NamingSystem/domain"
PSEUDONYM_SYSTEM = "https://schakel.nl/fhir/NamingSystem/participant-pseudonym"
# FHIR R4 Consent.status: active | inactive | rejected | proposed | draft | entered-in-error.
_STATUS = {
    ConsentStatus.ACTIVE: "active",
    ConsentStatus.PENDING: "proposed",
    ConsentStatus.EXPIRED: "inactive",
    ConsentStatus.REVOKED: "inactive",
    ConsentStatus.SUPERSEDED: "inactive",
}


def consent_resource(consent: ConsentView, *, subject_pseudonym: str) -> dict[str, Any]:
    """The consent as an R4 Consent (privacy scope, opt-in, one permit provision)."""
    grantee_system = PARTY_SYSTEM if consent.grantee_kind == "party" else DOMAIN_SYSTEM
    period: dict[str, str] = {"start": consent.valid_from.isoformat()}
    if consent.valid_until is not None:
        period["end"] = consent.valid_until.isoformat()
    document: dict[str, Any] = {
        "resourceType": "Consent",
        "id": consent.id,
        "meta": {"versionId": str(consent.version)},
        "status": _STATUS[consent.status],
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {"system": "http://loinc.org", "code": "59284-0", "display": "Consent Document"}
                ]
            }
        ],
        "patient": {"identifier": {"system": PSEUDONYM_SYSTEM, "value": subject_pseudonym}},
        "dateTime": consent.created_at.isoformat(),
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
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
            "purpose": [{"system": PURPOSE_SYSTEM, "code": consent.purpose}],
            "class": [{"system": CATEGORY_SYSTEM, "code": c} for c in consent.categories],
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

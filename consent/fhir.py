"""HL7 FHIR R4 ``Consent`` rendering, validated with the R4B models (R4's shape for Consent)."""

from __future__ import annotations

from typing import Any

from consent.schemas import ConsentStatus, ConsentView, GivenBy
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
    REPRESENTATIVE_ROLE,
)

_REPRESENTATIVE = "representative"
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
    patient = {"identifier": {"system": AUDIT_PSEUDONYM, "value": subject_pseudonym}}
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
        "patient": patient,
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
    document.update(_given_by(consent, patient))
    if consent.evidence_ref:
        document["sourceReference"] = {"display": consent.evidence_ref}
    from fhir.resources.R4B.consent import (
        Consent as FhirConsent,  # R4B's models cost ~5 MB: loaded on first use
    )

    return FhirConsent.model_validate(document).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )


def _given_by(consent: ConsentView, patient: dict[str, Any]) -> dict[str, Any]:
    """``performer`` and ``verification``: who gave the consent, and with whom it was verified.

    The grantor is the participant, or their legal representative (a contained RelatedPerson,
    BW Book 1: mentor, curator, guardian). A version recorded by a party, such as a paper form
    a professional entered, names that party as a performer too: R4 has no recorder element.
    """
    grantor: dict[str, Any] = {"type": "Patient", **patient, "display": "the participant"}
    contained: list[dict[str, Any]] = []
    if consent.given_by is GivenBy.REPRESENTATIVE and consent.representative_role is not None:
        role = consent.representative_role.value
        contained.append(
            {
                "resourceType": "RelatedPerson",
                "id": _REPRESENTATIVE,
                "patient": patient,
                "relationship": [{"coding": [{"system": REPRESENTATIVE_ROLE, "code": role}]}],
            }
        )
        grantor = {
            "reference": f"#{_REPRESENTATIVE}",
            "type": "RelatedPerson",
            "display": f"legal representative ({role})",
        }
    performers = [grantor]
    # "participant" is the recorder of what the participant did themselves (a login, not a party).
    if consent.recorded_by != GivenBy.PARTICIPANT.value:
        performers.append(
            {
                "type": "Organization",
                "identifier": {"system": PARTY, "value": consent.recorded_by},
                "display": f"{consent.recorded_by}, which recorded this consent",
            }
        )
    verification = {
        "verified": True,
        "verifiedWith": grantor,
        "verificationDate": consent.created_at.isoformat(),
    }
    given: dict[str, Any] = {"performer": performers, "verification": [verification]}
    if contained:
        given["contained"] = contained
    return given

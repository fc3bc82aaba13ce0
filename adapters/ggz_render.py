"""A disclosed view as an HL7 FHIR R4 Bundle (``collection``), validated with the R4B models."""

from __future__ import annotations

import json
import uuid
from typing import Any

import fhirsystems as systems
from adapters.protocol import DisclosedView

_URN = uuid.UUID("5c1d2b1e-7a4f-4c55-9f0e-3b0c1d5e6a70")


def render_disclosure_bundle(view: DisclosedView) -> dict[str, Any]:
    """The view as an R4 ``collection`` Bundle; the subject is named by pseudonym, never by BSN.

    When nothing was disclosed the Bundle holds no Patient, only the withheld categories.
    """
    entries: list[dict[str, Any]] = []
    if view.subject_pseudonym is not None:
        patient_url = _full_url(view.subject_pseudonym, "Patient")
        entries.append(
            {
                "fullUrl": patient_url,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [
                        {
                            "system": systems.participant_pseudonym(view.domain),
                            "value": view.subject_pseudonym,
                        }
                    ],
                },
            }
        )
        for category in sorted(view.categories):
            entries.extend(_category_entries(view, view.subject_pseudonym, category, patient_url))
    if view.withheld:
        entries.append(_withheld_entry(view))
    document: dict[str, Any] = {
        "resourceType": "Bundle",
        "meta": {
            "tag": [{"system": systems.PURPOSE, "code": view.purpose}],
            "extension": [
                {"url": systems.POLICY_REVISION_EXTENSION, "valueString": view.policy_revision}
            ],
        },
        "identifier": {"system": systems.DECISION, "value": view.decision_id},
        "type": "collection",
        "timestamp": view.decided_at.isoformat(),
        "entry": entries,
    }
    from fhir.resources.R4B.bundle import Bundle  # R4B's models cost ~5 MB: loaded on first use

    return Bundle.model_validate(document).model_dump(mode="json", exclude_none=True)


def _full_url(pseudonym: str | None, *parts: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(_URN, "/".join((pseudonym or "", *parts))))


def _category_entries(
    view: DisclosedView, pseudonym: str, category: str, patient_url: str
) -> list[dict[str, Any]]:
    fields = view.categories[category]
    if category == "care.involvement":
        return _episode_of_care(pseudonym, fields, patient_url)
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": systems.CATEGORY, "code": category}]},
        "subject": {"reference": patient_url},
    }
    rest = dict(fields)
    if category == "care.work_readiness":
        rest = _work_readiness(resource, rest)
    components = [c for name, value in sorted(rest.items()) for c in _components(name, value)]
    if components:
        resource["component"] = components
    return [{"fullUrl": _full_url(pseudonym, category), "resource": resource}]


def _work_readiness(resource: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """Readiness as the Observation's value, the IPS stage as a coded component."""
    if fields.get("assessed_at"):
        resource["effectiveDateTime"] = fields.pop("assessed_at")
    if fields.get("readiness"):
        resource["valueCodeableConcept"] = {
            "coding": [{"system": systems.READINESS, "code": fields.pop("readiness")}]
        }
    if fields.get("summary"):
        resource["note"] = [{"text": fields.pop("summary")}]
    if fields.get("ips_stage"):
        resource.setdefault("component", []).append(
            {
                "code": {"coding": [{"system": systems.FIELD, "code": "ips_stage"}]},
                "valueCodeableConcept": {
                    "coding": [{"system": systems.IPS_STAGE, "code": fields.pop("ips_stage")}]
                },
            }
        )
    return {name: value for name, value in fields.items() if value is not None}


def _episode_of_care(
    pseudonym: str, fields: dict[str, Any], patient_url: str
) -> list[dict[str, Any]]:
    episode: dict[str, Any] = {
        "resourceType": "EpisodeOfCare",
        "status": "active" if fields.get("in_care") else "finished",
        "type": [{"coding": [{"system": systems.CATEGORY, "code": "care.involvement"}]}],
        "patient": {"reference": patient_url},
    }
    if fields.get("since"):
        episode["period"] = {"start": fields["since"]}
    entries = [{"fullUrl": _full_url(pseudonym, "care.involvement"), "resource": episode}]
    contact = fields.get("coordinator_contact")
    if isinstance(contact, dict) and contact:
        practitioner_url = _full_url(pseudonym, "care.involvement", "coordinator")
        practitioner: dict[str, Any] = {"resourceType": "Practitioner"}
        if contact.get("name"):
            practitioner["name"] = [{"text": contact["name"]}]
        telecom = [
            {"system": system, "value": contact[system]}
            for system in ("phone", "email")
            if contact.get(system)
        ]
        if telecom:
            practitioner["telecom"] = telecom
        episode["careManager"] = {"reference": practitioner_url}
        entries.append({"fullUrl": practitioner_url, "resource": practitioner})
    return entries


def _components(name: str, value: Any) -> list[dict[str, Any]]:
    """One component per field (per item for a list), typed as FHIR allows."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [c for item in value for c in _components(name, item)]
    component: dict[str, Any] = {"code": {"coding": [{"system": systems.FIELD, "code": name}]}}
    if isinstance(value, bool):
        component["valueBoolean"] = value
    elif isinstance(value, int):
        component["valueInteger"] = value
    elif isinstance(value, float):
        component["valueQuantity"] = {"value": value}
    elif isinstance(value, str):
        component["valueString"] = value
    else:
        component["valueString"] = json.dumps(
            value, sort_keys=True, ensure_ascii=False, default=str
        )
    return [component]


def _withheld_entry(view: DisclosedView) -> dict[str, Any]:
    """Withheld categories as information issues (code ``suppressed``) with the reason code."""
    issues = [
        {
            "severity": "information",
            "code": "suppressed",
            "details": {
                "coding": [{"system": systems.WITHHELD_REASON, "code": reason}],
                "text": f"{category} withheld: {reason}",
            },
            "diagnostics": category,
            "extension": [{"url": systems.WITHHELD_CATEGORY_EXTENSION, "valueCode": category}],
        }
        for category, reason in sorted(view.withheld.items())
    ]
    return {
        "fullUrl": _full_url(view.subject_pseudonym, "withheld"),
        "resource": {"resourceType": "OperationOutcome", "issue": issues},
    }

"""An HL7 FHIR R4 Bundle from a GGZ system to canonical contributions (R4B models validate it).

Taken in: ``Patient`` (by BSN, or by the sender's domain pseudonym: ``fhirsystems``),
``EpisodeOfCare`` with its care coordinator (``Practitioner``/``PractitionerRole``) as
``care.involvement``, and the IPS work-readiness ``Observation`` and IPS ``CarePlan`` as
``care.work_readiness``. ``Condition`` maps to ``care.diagnosis``, which the gateway refuses to
store; other clinical resources are dropped here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pydantic

import fhirsystems as systems
from adapters.errors import MalformedPayload, PayloadError, PayloadFault, UnknownCode
from adapters.fhir_codes import IPS_STAGES, READINESS_CODES
from adapters.jsonload import load_json
from adapters.protocol import (
    CanonicalContribution,
    DroppedItem,
    ParsedPayload,
    SubjectIdentifier,
)

TAKEN_IN = frozenset(
    {"Patient", "EpisodeOfCare", "Practitioner", "PractitionerRole", "Observation", "CarePlan"}
)
TAKEN_IN_AS_DIAGNOSIS = frozenset({"Condition"})
CLINICAL = frozenset(
    {
        "AllergyIntolerance", "ClinicalImpression", "Composition", "DetectedIssue",
        "DiagnosticReport", "DocumentReference", "Encounter", "FamilyMemberHistory", "Flag",
        "ImagingStudy", "Immunization", "MedicationAdministration", "MedicationDispense",
        "MedicationRequest", "MedicationStatement", "Procedure", "QuestionnaireResponse",
        "RiskAssessment", "ServiceRequest", "Specimen",
    }
)  # fmt: skip
IN_CARE = {"planned": True, "waitlist": True, "active": True, "onhold": True}
OUT_OF_CARE = {"finished": False, "cancelled": False}
VOID = frozenset({"entered-in-error"})
_PYTHON_NAMES = {"resource_type": "resourceType"}


@dataclass
class _Context:
    """The bundle being read: resources by reference, the subject, what was dropped."""

    resources: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    patient_refs: set[str] = field(default_factory=set)
    referenced: set[str] = field(default_factory=set)
    subject: SubjectIdentifier | None = None
    timestamp: datetime | None = None
    dropped: list[DroppedItem] = field(default_factory=list)


def parse_bundle(body: bytes) -> ParsedPayload:
    """Validate the Bundle with the R4B models and map what the catalogue knows."""
    document = load_json(body, root="Bundle")
    if not isinstance(document, dict):
        raise MalformedPayload("Bundle", "expected a FHIR resource (a JSON object)")
    if document.get("resourceType") != "Bundle":
        raise PayloadError(
            "Bundle.resourceType", f"expected a Bundle, got {document.get('resourceType')!r}"
        )
    context = _Context()
    kept = _keep_known_entries(document, context)
    bundle = _validated(document, kept)
    context.timestamp = _instant(bundle.get("timestamp"))
    entries = [(index, entry) for index, entry in zip(kept, bundle.get("entry", []), strict=True)]
    _index(entries, context)
    contributions: dict[str, CanonicalContribution] = {}
    for index, entry in entries:
        for contribution in _map_entry(index, entry["resource"], context):
            contributions[contribution.category] = _merge(
                contributions.get(contribution.category), contribution
            )
    _report_unreferenced(entries, context)
    return ParsedPayload(tuple(contributions.values()), tuple(context.dropped), context.subject)


def _keep_known_entries(document: dict[str, Any], context: _Context) -> list[int]:
    """Indices of entries to validate; clinical and unknown resources are dropped unread."""
    entries = document.get("entry", [])
    if not isinstance(entries, list):
        raise PayloadError("Bundle.entry", "expected an array of entries")
    kept: list[int] = []
    for index, entry in enumerate(entries):
        location = f"Bundle.entry[{index}].resource"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise PayloadError(location, "every entry must hold a resource")
        kind = resource.get("resourceType")
        if not isinstance(kind, str):
            raise PayloadError(f"{location}.resourceType", "every resource names its resourceType")
        if kind in TAKEN_IN or kind in TAKEN_IN_AS_DIAGNOSIS:
            kept.append(index)
        elif kind in CLINICAL:
            context.dropped.append(
                DroppedItem(
                    location, "clinical-resource",
                    f"{kind} is clinical data: it stays in the GGZ domain and is not taken in",
                )
            )  # fmt: skip
        else:
            context.dropped.append(
                DroppedItem(
                    location, "unsupported-resource",
                    f"{kind!r} is not a resource the ggz-fhir format takes in",
                )
            )  # fmt: skip
    return kept


def _validated(document: dict[str, Any], kept: list[int]) -> dict[str, Any]:
    """The Bundle (kept entries only) through the R4B models, as normalised FHIR JSON."""
    shell = dict(document)
    if "entry" in document:
        shell["entry"] = [document["entry"][index] for index in kept]
    from fhir.resources.R4B.bundle import Bundle  # R4B's models cost ~5 MB: loaded on first use

    try:
        bundle = Bundle.model_validate(shell)
    except pydantic.ValidationError as error:
        faults = [_fault(item, kept) for item in error.errors()]
        raise PayloadError(faults[0].location, faults[0].detail, more=tuple(faults[1:])) from None
    except (KeyError, TypeError, ValueError, RecursionError) as error:
        raise PayloadError(
            "Bundle", f"not a valid FHIR R4 Bundle ({type(error).__name__})"
        ) from None
    normalised: dict[str, Any] = bundle.model_dump(mode="json", by_alias=True, exclude_none=True)
    return normalised


def _fault(item: Any, kept: list[int]) -> PayloadFault:
    """A pydantic error location as a FHIRPath into the original Bundle."""
    path = "Bundle"
    parts = list(item.get("loc", ()))
    for position, part in enumerate(parts):
        if isinstance(part, int):
            previous = parts[position - 1] if position else None
            original = kept[part] if previous == "entry" and part < len(kept) else part
            path += f"[{original}]"
        else:
            name = _PYTHON_NAMES.get(str(part), str(part).removesuffix("__ext"))
            path += "." + name.removesuffix("_fhir")
    message = str(item.get("msg", "invalid value")).split("\n")[0].strip()
    return PayloadFault(path, message)


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _index(entries: list[tuple[int, dict[str, Any]]], context: _Context) -> None:
    """Resources by ``fullUrl`` and ``Type/id``; the one Patient becomes the subject."""
    for index, entry in entries:
        resource = entry["resource"]
        kind = resource["resourceType"]
        location = f"Bundle.entry[{index}].resource"
        refs = {entry["fullUrl"]} if entry.get("fullUrl") else set()
        if resource.get("id"):
            refs.add(f"{kind}/{resource['id']}")
        for ref in refs:
            context.resources[ref] = (location, resource)
        if kind == "Patient":
            if context.subject is not None:
                raise PayloadError(location, "a Bundle describes exactly one participant")
            context.subject = _subject(resource, location)
            context.patient_refs = refs
            _drop_demographics(resource, location, context)
    if context.subject is None:
        raise PayloadError("Bundle.entry", "no Patient: name the participant by BSN")


def _subject(patient: dict[str, Any], location: str) -> SubjectIdentifier:
    for position, identifier in enumerate(patient.get("identifier", [])):
        value_location = f"{location}.identifier[{position}].value"
        system = identifier.get("system")
        domain = systems.pseudonym_domain(system) if isinstance(system, str) else None
        if system == systems.BSN or domain is not None:
            value = identifier.get("value")
            if not value:
                raise PayloadError(value_location, "the identifier has no value")
            if domain is None:
                return SubjectIdentifier("bsn", value, value_location)
            return SubjectIdentifier("pseudonym", value, value_location, domain)
    raise PayloadError(f"{location}.identifier", f"no identifier with system {systems.BSN}")


def _drop_demographics(patient: dict[str, Any], location: str, context: _Context) -> None:
    context.dropped.extend(
        DroppedItem(
            f"{location}.{name}",
            "outside-catalogue",
            f"Patient.{name} maps to no category; not stored",
            field=name,
        )
        for name in patient
        if name not in {"resourceType", "id", "meta", "identifier"}
    )


def _map_entry(
    index: int, resource: dict[str, Any], context: _Context
) -> list[CanonicalContribution]:
    location = f"Bundle.entry[{index}].resource"
    kind = resource["resourceType"]
    verification = {code for _, code in _any_codes(resource.get("verificationStatus"))}
    if resource.get("status") in VOID or verification & VOID:
        context.dropped.append(DroppedItem(location, "entered-in-error", f"{kind} is void"))
        return []
    if kind == "EpisodeOfCare":
        return [_episode_of_care(resource, location, context)]
    if kind == "Observation":
        return _observation(resource, location, context)
    if kind == "CarePlan":
        return _care_plan(resource, location, context)
    if kind == "Condition":
        return [_condition(resource, location, context)]
    return []


def _contribution(
    category: str,
    fields: dict[str, Any],
    location: str,
    context: _Context,
    observed: Any = None,
) -> CanonicalContribution:
    assert context.subject is not None
    return CanonicalContribution(
        subject=context.subject,
        category=category,
        fields={name: value for name, value in fields.items() if value is not None},
        location=location,
        observed_at=_instant(observed) or context.timestamp,
    )


def _check_subject(reference: dict[str, Any] | None, location: str, context: _Context) -> None:
    target = (reference or {}).get("reference")
    if target is not None and target not in context.patient_refs:
        raise PayloadError(f"{location}.reference", "refers to another Patient than the Bundle's")


def _episode_of_care(
    resource: dict[str, Any], location: str, context: _Context
) -> CanonicalContribution:
    _check_subject(resource.get("patient"), f"{location}.patient", context)
    status = resource["status"]
    in_care = {**IN_CARE, **OUT_OF_CARE}.get(status)
    if in_care is None:
        raise UnknownCode(f"{location}.status", f"unknown EpisodeOfCare status {status!r}")
    if resource.get("diagnosis"):
        context.dropped.append(
            DroppedItem(
                f"{location}.diagnosis", "clinical-content",
                "diagnoses stay in the GGZ domain; only care involvement is taken in",
                category="care.involvement", field="diagnosis",
            )
        )  # fmt: skip
    manager = resource.get("careManager")
    contact = None
    if manager is not None:
        contact = _coordinator_contact(manager, f"{location}.careManager", context)
    fields = {
        "in_care": in_care,
        "since": resource.get("period", {}).get("start"),
        "coordinator_contact": contact,
    }
    return _contribution("care.involvement", fields, location, context)


def _coordinator_contact(
    reference: dict[str, Any], location: str, context: _Context
) -> dict[str, str] | None:
    """Name, phone and e-mail of the coordinator (PractitionerRole telecom before Practitioner)."""
    target = reference.get("reference")
    if target is None:
        return {"name": reference["display"]} if reference.get("display") else None
    if target not in context.resources:
        raise PayloadError(f"{location}.reference", f"{target!r} is not in the Bundle")
    context.referenced.add(target)
    _, resource = context.resources[target]
    telecom = list(resource.get("telecom", []))
    if resource["resourceType"] == "PractitionerRole":
        practitioner = resource.get("practitioner", {})
        inner = practitioner.get("reference")
        if inner in context.resources:
            context.referenced.add(inner)
            name = _human_name(context.resources[inner][1])
            telecom += context.resources[inner][1].get("telecom", [])
        else:
            name = practitioner.get("display")
    elif resource["resourceType"] == "Practitioner":
        name = _human_name(resource)
    else:
        raise PayloadError(f"{location}.reference", "must refer to a Practitioner(Role)")
    contact = {"name": name}
    for system in ("phone", "email"):
        contact[system] = next((t.get("value") for t in telecom if t.get("system") == system), None)
    return {key: value for key, value in contact.items() if value}


def _human_name(practitioner: dict[str, Any]) -> str | None:
    for name in practitioner.get("name", []):
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("prefix", []), *name.get("given", []), name.get("family")]
        text = " ".join(part for part in parts if part)
        if text:
            return text
    return None


def _any_codes(concept: dict[str, Any] | None) -> list[tuple[int, str]]:
    return [
        (position, coding["code"])
        for position, coding in enumerate((concept or {}).get("coding", []))
        if coding.get("code")
    ]


def _codes(concept: dict[str, Any] | None, system: str) -> list[tuple[int, str]]:
    return [
        (position, coding["code"])
        for position, coding in enumerate((concept or {}).get("coding", []))
        if coding.get("system") == system and coding.get("code")
    ]


def _coded(
    concept: dict[str, Any] | None, system: str, valid: frozenset[str], location: str
) -> str | None:
    for position, code in _codes(concept, system):
        if code not in valid:
            raise UnknownCode(
                f"{location}.coding[{position}].code",
                f"unknown code {code!r} in {system}; valid: {', '.join(sorted(valid))}",
            )
        return code
    return None


def _observation(
    resource: dict[str, Any], location: str, context: _Context
) -> list[CanonicalContribution]:
    if "care.work_readiness" not in {c for _, c in _codes(resource["code"], systems.CATEGORY)}:
        context.dropped.append(
            DroppedItem(
                location, "clinical-resource",
                "only the IPS work-readiness Observation is taken in; other observations are clinical",
            )
        )  # fmt: skip
        return []
    _check_subject(resource.get("subject"), f"{location}.subject", context)
    readiness = _coded(
        resource.get("valueCodeableConcept"),
        systems.READINESS,
        READINESS_CODES,
        f"{location}.valueCodeableConcept",
    )
    stage = None
    for position, component in enumerate(resource.get("component", [])):
        if "ips_stage" in {c for _, c in _codes(component.get("code"), systems.FIELD)}:
            stage = _coded(
                component.get("valueCodeableConcept"),
                systems.IPS_STAGE,
                IPS_STAGES,
                f"{location}.component[{position}].valueCodeableConcept",
            )
    assessed = resource.get("effectiveDateTime") or resource.get("effectivePeriod", {}).get("start")
    notes = [note["text"] for note in resource.get("note", []) if note.get("text")]
    fields = {
        "assessed_at": assessed,
        "readiness": readiness,
        "ips_stage": stage,
        "summary": "\n".join(notes) or None,
    }
    observed = resource.get("issued") or assessed
    return [_contribution("care.work_readiness", fields, location, context, observed)]


def _care_plan(
    resource: dict[str, Any], location: str, context: _Context
) -> list[CanonicalContribution]:
    categories = {
        c for concept in resource.get("category", []) for _, c in _codes(concept, systems.CATEGORY)
    }
    if "care.work_readiness" not in categories:
        context.dropped.append(
            DroppedItem(
                location, "clinical-resource",
                "only the IPS CarePlan is taken in; treatment plans are clinical",
            )
        )  # fmt: skip
        return []
    _check_subject(resource.get("subject"), f"{location}.subject", context)
    stage = None
    for position, activity in enumerate(resource.get("activity", [])):
        detail = activity.get("detail", {})
        found = _coded(
            detail.get("code"),
            systems.IPS_STAGE,
            IPS_STAGES,
            f"{location}.activity[{position}].detail.code",
        )
        if found is not None and detail.get("status") in ("in-progress", "scheduled", None):
            stage = stage or found
    fields = {"ips_stage": stage, "summary": resource.get("description")}
    observed = resource.get("created")
    return [_contribution("care.work_readiness", fields, location, context, observed)]


def _condition(resource: dict[str, Any], location: str, context: _Context) -> CanonicalContribution:
    coding = (resource.get("code", {}).get("coding") or [{}])[0]
    fields = {
        "code": coding.get("code"),
        "system": coding.get("system"),
        "display": coding.get("display") or resource.get("code", {}).get("text"),
        "recorded_at": resource.get("recordedDate"),
    }
    return _contribution("care.diagnosis", fields, location, context, resource.get("recordedDate"))


def _merge(
    earlier: CanonicalContribution | None, later: CanonicalContribution
) -> CanonicalContribution:
    """Resources of one category in one Bundle make one contribution; they must agree."""
    if earlier is None:
        return later
    fields = dict(earlier.fields)
    for name, value in later.fields.items():
        if name in fields and fields[name] != value:
            raise PayloadError(
                later.location, f"{name} disagrees with {earlier.location} ({later.category})"
            )
        fields[name] = value
    observed = max(
        (moment for moment in (earlier.observed_at, later.observed_at) if moment is not None),
        default=None,
    )
    return CanonicalContribution(
        subject=earlier.subject,
        category=earlier.category,
        fields=fields,
        location=earlier.location,
        observed_at=observed,
    )


def _report_unreferenced(entries: list[tuple[int, dict[str, Any]]], context: _Context) -> None:
    for index, entry in entries:
        resource = entry["resource"]
        if resource["resourceType"] not in ("Practitioner", "PractitionerRole"):
            continue
        refs = {entry.get("fullUrl"), f"{resource['resourceType']}/{resource.get('id')}"}
        if not refs & context.referenced:
            context.dropped.append(
                DroppedItem(
                    f"Bundle.entry[{index}].resource", "not-referenced",
                    "not the care coordinator of an EpisodeOfCare; not stored",
                )
            )  # fmt: skip

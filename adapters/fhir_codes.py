"""Code systems and naming systems Schakel uses in HL7 FHIR R4 payloads."""

from __future__ import annotations

BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"
PSEUDONYM_SYSTEM = "https://schakel.nl/fhir/NamingSystem/participant-pseudonym"
PARTY_SYSTEM = "https://schakel.nl/fhir/NamingSystem/party"
CATEGORY_SYSTEM = "https://schakel.nl/fhir/CodeSystem/data-category"
FIELD_SYSTEM = "https://schakel.nl/fhir/CodeSystem/data-field"
PURPOSE_SYSTEM = "https://schakel.nl/fhir/CodeSystem/purpose"
READINESS_SYSTEM = "https://schakel.nl/fhir/CodeSystem/work-readiness"
IPS_STAGE_SYSTEM = "https://schakel.nl/fhir/CodeSystem/ips-stage"
WITHHELD_REASON_SYSTEM = "https://schakel.nl/fhir/CodeSystem/withheld-reason"
POLICY_REVISION_EXTENSION = "https://schakel.nl/fhir/StructureDefinition/policy-revision"
WITHHELD_CATEGORY_EXTENSION = "https://schakel.nl/fhir/StructureDefinition/withheld-category"

# Work readiness as the GGZ IPS job coach records it (Individual Placement and Support).
READINESS_CODES = frozenset({"not-ready", "preparing", "ready-for-work", "working"})
# The IPS trajectory stages (IPS fidelity scale: engagement to follow-along support).
IPS_STAGES = frozenset({"engagement", "assessment", "job-search", "job-support", "follow-along"})

"""One system URI per concept, for every HL7 FHIR R4 resource Schakel emits or reads.

The Consent export (``consent/fhir.py``), the AuditEvent (``audit/fhir.py``) and the GGZ Bundles
(``adapters/ggz_*``) name parties, pseudonyms, consents, categories and purposes with these URIs
and no others, so a reader can join what they say. This is a shared leaf like ``dbtypes``: it
imports nothing of the project, so every domain may use it without importing another domain or
the gateway (``tests/test_architecture.py``). The URIs are not in the catalogue
(``policies/schakel/catalogue/data.json``): no policy reads them, and changing one there would
change the policy revision over what is a contract with partners, not a rule. ``docs/fhir.md``
lists them with where each is used.
"""

from __future__ import annotations

import re

BASE = "https://schakel.nl/fhir"

# Naming systems: the value identifies one thing.
PARTY = f"{BASE}/NamingSystem/party"
"""A party (an organisation: ``uwv-leiden``) by its party id."""
PARTICIPANT_PSEUDONYM = f"{BASE}/NamingSystem/participant-pseudonym"
"""The stem of the per-domain pseudonym systems; use ``participant_pseudonym(domain)``."""
AUDIT_PSEUDONYM = f"{PARTICIPANT_PSEUDONYM}/audit"
"""Audit-domain pseudonyms: audit entries and the participant's own exports name them so."""
CONSENT = f"{BASE}/NamingSystem/consent"
"""One consent version by its id (a new version has a new id)."""
DECISION = f"{BASE}/NamingSystem/decision"
"""One disclosure decision by its ``decision_id``, the same in the answer and the audit entry."""
PROFESSIONAL = f"{BASE}/NamingSystem/professional"
"""A professional by the user id of its own organisation (the identifier's assigner, a party)."""

# Code systems: the code is one of a closed list.
DOMAIN = f"{BASE}/CodeSystem/domain"
"""A domain of the catalogue (``ggz``, ``uwv``, …), as a code and as a grantee's identifier."""
PURPOSE = f"{BASE}/CodeSystem/purpose"
CATEGORY = f"{BASE}/CodeSystem/data-category"
FIELD = f"{BASE}/CodeSystem/data-field"
WITHHELD_REASON = f"{BASE}/CodeSystem/withheld-reason"
AUDIT_ACTION = f"{BASE}/CodeSystem/audit-action"
REPRESENTATIVE_ROLE = f"{BASE}/CodeSystem/representative-role"
"""A legal representative under Dutch law (BW Book 1): ``mentor``, ``curator``, ``guardian``."""
READINESS = f"{BASE}/CodeSystem/work-readiness"
IPS_STAGE = f"{BASE}/CodeSystem/ips-stage"

# Extensions.
POLICY_REVISION_EXTENSION = f"{BASE}/StructureDefinition/policy-revision"
WITHHELD_CATEGORY_EXTENSION = f"{BASE}/StructureDefinition/withheld-category"
TRACE_ID_EXTENSION = f"{BASE}/StructureDefinition/trace-id"
AUDIT_ENTRY_HASH_EXTENSION = f"{BASE}/StructureDefinition/audit-entry-hash"

# Systems of others that Schakel uses.
BSN = "http://fhir.nl/fhir/NamingSystem/bsn"
LOINC = "http://loinc.org"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
AUDIT_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SECURITY_ROLE_TYPE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"

SYSTEMS = frozenset(
    {
        PARTY, CONSENT, DECISION, PROFESSIONAL, DOMAIN, PURPOSE, CATEGORY, FIELD, WITHHELD_REASON,
        AUDIT_ACTION, REPRESENTATIVE_ROLE, READINESS, IPS_STAGE,
        BSN, LOINC, CONSENT_SCOPE, ACT_CODE, PARTICIPATION_TYPE, AUDIT_EVENT_TYPE,
        AUDIT_ENTITY_TYPE, OBJECT_ROLE, SECURITY_ROLE_TYPE,
    }
)  # fmt: skip
"""Every fixed system; the per-domain pseudonym systems come from ``participant_pseudonym``."""
EXTENSIONS = frozenset(
    {
        POLICY_REVISION_EXTENSION,
        WITHHELD_CATEGORY_EXTENSION,
        TRACE_ID_EXTENSION,
        AUDIT_ENTRY_HASH_EXTENSION,
    }
)

_DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def participant_pseudonym(domain: str) -> str:
    """The system of one domain's pseudonyms: a pseudonym means nothing without its domain."""
    if not _DOMAIN_NAME.match(domain):
        raise ValueError(f"not a domain name: {domain!r}")
    return f"{PARTICIPANT_PSEUDONYM}/{domain}"


def pseudonym_domain(system: str) -> str | None:
    """The domain of a pseudonym system, or None when ``system`` is not one."""
    stem, _, domain = system.rpartition("/")
    return domain if stem == PARTICIPANT_PSEUDONYM and _DOMAIN_NAME.match(domain) else None

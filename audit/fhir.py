"""FHIR R4 AuditEvent for one entry (validated with the R4B models, which keep R4's shape)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.actions import Action
from fhirsystems import (
    AUDIT_ACTION,
    AUDIT_ENTITY_TYPE,
    AUDIT_ENTRY_HASH_EXTENSION,
    AUDIT_EVENT_TYPE,
    AUDIT_PSEUDONYM,
    CONSENT,
    DECISION,
    DOMAIN,
    OBJECT_ROLE,
    PARTY,
    PROFESSIONAL,
    PURPOSE,
    SECURITY_ROLE_TYPE,
    TRACE_ID_EXTENSION,
)

# AuditEvent.action (C create, R read, U update, D delete, E execute) of every action; an
# action an older gateway wrote and this one does not know maps to E.
FHIR_ACTIONS: dict[Action, str] = {
    Action.DISCLOSE: "R",
    Action.DENY: "R",
    Action.CONSENT_GRANT: "C",
    Action.CONSENT_AMEND: "U",
    Action.CONSENT_REVOKE: "D",
    Action.CONSENT_QUERY: "R",
    Action.RECORD_SUBMIT: "C",
    Action.PLAN_UPDATE: "U",
    Action.DIRECTOR_ASSIGN: "C",
    Action.DIRECTOR_END: "U",
    Action.SIGNAL_SUBMIT: "C",
    Action.SIGNAL_NOTIFY: "E",
    Action.SIGNAL_END: "U",
    Action.NOTICE_SEND: "C",
    Action.NOTICE_DELIVER: "E",
    Action.NOTICE_ACKNOWLEDGE: "U",
    Action.WEBHOOK_REGISTER: "C",
    Action.WEBHOOK_REMOVE: "D",
    Action.WEBHOOK_DEAD_LETTERS: "R",
    Action.WEBHOOK_RETRY: "E",
    Action.AUDIT_QUERY: "R",
    Action.POLICY_RELOAD: "E",
    Action.PARTICIPANT_ERASE: "D",
    Action.OFFICER_SIGN_IN: "E",
    Action.CONFERENCE_SCHEDULE: "C",
    Action.CONFERENCE_INVITE: "C",
    Action.CONFERENCE_AGENDA: "R",
    Action.CONFERENCE_CONSENT: "C",
    Action.CONFERENCE_OUTCOME: "C",
    Action.CONFERENCE_REGISTER: "R",
    Action.MONITORING_RELEASE: "R",
    Action.MONITORING_OBJECTION: "U",
}
HUMAN_USER = {
    "system": SECURITY_ROLE_TYPE,
    "code": "humanuser",
    "display": "human user",
}
# AuditEvent.outcome: 0 success, 4 minor failure (a refusal), 8 serious failure.
FHIR_OUTCOMES = {"allow": "0", "ok": "0", "deny": "4", "error": "8"}


def audit_event(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry (a document of docs/audit-format.md) as an R4 AuditEvent resource."""
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": f"schakel-audit-{entry['seq']}",
        "extension": [{"url": AUDIT_ENTRY_HASH_EXTENSION, "valueString": entry["entry_hash"]}],
        "type": {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": AUDIT_ACTION, "code": entry["action"]}],
        "action": FHIR_ACTIONS.get(entry["action"], "E"),
        "recorded": entry["recorded_at"],
        "outcome": FHIR_OUTCOMES[entry["outcome"]],
        "agent": [
            {
                "who": {
                    "identifier": {"system": PARTY, "value": entry["actor_party"]},
                    "display": f"{entry['actor_party']} ({entry['actor_domain']})",
                },
                "requestor": True,
            }
        ],
        "source": {
            "observer": {"display": "Schakel gateway"},
            "type": [{"system": DOMAIN, "code": entry["actor_domain"]}],
        },
        "entity": _entities(entry),
    }
    if entry.get("trace_id"):
        resource["extension"].append({"url": TRACE_ID_EXTENSION, "valueString": entry["trace_id"]})
    if entry.get("actor_user"):
        resource["agent"] = [_professional(entry), {**resource["agent"][0], "requestor": False}]
    if entry.get("reason"):
        resource["outcomeDesc"] = entry["reason"]
    if entry.get("purpose"):
        resource["purposeOfEvent"] = [{"coding": [{"system": PURPOSE, "code": entry["purpose"]}]}]
    from fhir.resources.R4B.auditevent import (
        AuditEvent,  # R4B's models cost ~5 MB: loaded on first use
    )

    AuditEvent.model_validate(resource)
    return resource


def _professional(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The acting professional (NEN 7513), by the user id its organisation (the assigner) gave:
    the requestor."""
    return {
        "type": {"coding": [HUMAN_USER]},
        "who": {
            "identifier": {
                "system": PROFESSIONAL,
                "value": entry["actor_user"],
                "assigner": {"identifier": {"system": PARTY, "value": entry["actor_party"]}},
            }
        },
        "requestor": True,
    }


def _entities(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if entry.get("subject_ref"):
        entities.append(
            {
                "what": {
                    "identifier": {
                        "system": AUDIT_PSEUDONYM,
                        "value": entry["subject_ref"],
                    }
                },
                "type": {
                    "system": AUDIT_ENTITY_TYPE,
                    "code": "1",
                },
                "role": {
                    "system": OBJECT_ROLE,
                    "code": "1",
                },
            }
        )
    for consent_id in entry.get("consent_ids", []):
        identifier = {"system": CONSENT, "value": consent_id}
        entities.append({"what": {"reference": f"Consent/{consent_id}", "identifier": identifier}})
    if entry.get("decision_id"):
        entities.append(
            {"what": {"identifier": {"system": DECISION, "value": entry["decision_id"]}}}
        )
    if entry.get("categories") or entry.get("payload_digest"):
        detail = [{"type": "category", "valueString": c} for c in entry.get("categories", [])]
        if entry.get("payload_digest"):
            detail.append({"type": "payload-sha256", "valueString": entry["payload_digest"]})
        entities.append({"name": "disclosed data", "detail": detail})
    return entities

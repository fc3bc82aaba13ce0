"""What an audit entry records as done, and how it ended: the enums that the writers, the format
document (docs/audit-format.md §1.1), the FHIR AuditEvent mapping and the property tests share.

The stored column stays a string (docs/audit-format.md: lowercase words joined by ``.``), so
a new action needs a member here and no migration; a log read back may hold actions that an
older gateway wrote.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """Every action the gateway writes, exactly."""

    DISCLOSE = "disclose"
    DENY = "deny"
    CONSENT_GRANT = "consent.grant"
    CONSENT_AMEND = "consent.amend"
    CONSENT_REVOKE = "consent.revoke"
    CONSENT_QUERY = "consent.query"
    RECORD_SUBMIT = "record.submit"
    PLAN_UPDATE = "plan.update"
    DIRECTOR_ASSIGN = "director.assign"
    DIRECTOR_END = "director.end"
    SIGNAL_SUBMIT = "signal.submit"
    SIGNAL_NOTIFY = "signal.notify"
    SIGNAL_END = "signal.end"
    NOTICE_SEND = "notice.send"
    NOTICE_DELIVER = "notice.deliver"
    NOTICE_ACKNOWLEDGE = "notice.acknowledge"
    WEBHOOK_REGISTER = "webhook.register"
    WEBHOOK_REMOVE = "webhook.remove"
    WEBHOOK_DEAD_LETTERS = "webhook.dead_letters"
    WEBHOOK_RETRY = "webhook.retry"
    AUDIT_QUERY = "audit.query"
    POLICY_RELOAD = "policy.reload"
    PARTICIPANT_ERASE = "participant.erase"
    OFFICER_SIGN_IN = "officer.sign_in"
    CONFERENCE_SCHEDULE = "conference.schedule"
    CONFERENCE_INVITE = "conference.invite"
    CONFERENCE_AGENDA = "conference.agenda"
    CONFERENCE_CONSENT = "conference.consent"
    CONFERENCE_OUTCOME = "conference.outcome"
    CONFERENCE_REGISTER = "conference.register"
    MONITORING_RELEASE = "monitoring.release"
    MONITORING_OBJECTION = "monitoring.objection"


class Outcome(StrEnum):
    """How the action ended (docs/audit-format.md §1): allowed, denied, done, or failed."""

    ALLOW = "allow"
    DENY = "deny"
    OK = "ok"
    ERROR = "error"

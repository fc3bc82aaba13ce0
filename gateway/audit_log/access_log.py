"""The participant's access log: which organisation saw what about me, when, why — in plain words.

Only the participant's own entries (found by their audit-domain pseudonym); never another
participant's, never content. GDPR Art. 15 (right of access) asks for the recipients.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from audit.errors import EntryNotFound
from audit.models import AuditEntry
from audit.proofs import InclusionBundle
from audit.query import entry_by_seq, find_entries
from audit.schemas import AuditQuery
from consent.models import Consent
from gateway.audit_log.flow import inclusion
from gateway.audit_log.schemas import AccessLog, AccessLogItem
from gateway.errors import NotFound
from gateway.identity.vault import ParticipantRef
from gateway.notices.flow import told_about
from gateway.registry.service import find_party
from gateway.runtime import Runtime

SHOWN_ACTIONS = {
    "disclose": "received",
    "deny": "asked for, and was refused,",
    "consent.grant": "recorded a consent about",
    "consent.amend": "changed a consent about",
    "consent.revoke": "recorded the withdrawal of a consent about",
    "conference.schedule": "put you on a case conference's agenda, asking to share",
    "conference.consent": "recorded your answer for a case conference about",
}
# A disclosure's reason names each category asked for but not shared with the policy's code
# (gateway.disclosures.flow); data.none is a category allowed that held nothing to share.
WITHHELD = re.compile(r"(?<![a-z_.])([a-z][a-z_]*\.[a-z][a-z_]*): ([a-z][a-z_.-]*)")
NOTHING_HELD = "data.none"


def access_log(
    session: Session,
    runtime: Runtime,
    participant: ParticipantRef,
    *,
    after_seq: int = 0,
    before_seq: int | None = None,
    newest_first: bool = False,
    limit: int,
) -> AccessLog:
    """One page of what happened about the participant, oldest first (the API) or newest first
    (the portal, paging back with ``before_seq``)."""
    reference = runtime.trail.subject_ref(participant)
    query = AuditQuery(
        subject_ref=reference, after_seq=after_seq, before_seq=before_seq,
        newest_first=newest_first, limit=limit,
    )  # fmt: skip
    entries, cursor = find_entries(session=session, query=query)
    categories = frozenset(runtime.catalogue.categories)
    return AccessLog(
        items=[
            _item(session, participant, entry, categories)
            for entry in entries
            if entry.action in SHOWN_ACTIONS
        ],
        next_after_seq=None if newest_first else cursor,
        next_before_seq=cursor if newest_first else None,
        deletion_notices=told_about(session, runtime, participant),
    )


def withheld_categories(reason: str | None, known: frozenset[str]) -> list[str]:
    """The categories a disclosure's reason names as asked for but not shared."""
    found = WITHHELD.findall(reason or "")
    return sorted(
        {category for category, code in found if category in known and code != NOTHING_HELD}
    )


def _item(
    session: Session, participant: ParticipantRef, entry: AuditEntry, known: frozenset[str]
) -> AccessLogItem:
    party = find_party(session, entry.actor_party)
    organisation = party.display_name if party is not None else _self_or_operator(entry.actor_party)
    categories = list(entry.categories)
    what = ", ".join(categories) or "no data"
    why = f" for {entry.purpose}" if entry.purpose else ""
    summary = f"{organisation} {SHOWN_ACTIONS[entry.action]} {what}{why}"
    withheld = withheld_categories(entry.reason, known) if entry.action == "disclose" else []
    if entry.action == "deny" and entry.reason:
        summary += f" ({entry.reason})"
    elif withheld:
        summary += f"; asked for, and was refused, {', '.join(withheld)}"
    return AccessLogItem(
        seq=entry.seq,
        at=entry.recorded_at,
        organisation=organisation,
        party=entry.actor_party,
        action=entry.action,
        outcome=entry.outcome,
        purpose=entry.purpose,
        categories=categories,
        withheld=withheld,
        grantee=_grantee(session, participant, entry),
        summary=summary,
        proof=f"/v1/me/access-log/{entry.seq}/proof",
    )


def own_entry_proof(
    session: Session, runtime: Runtime, participant: ParticipantRef, seq: int
) -> InclusionBundle:
    """The inclusion proof of one entry of the participant's access log. Another participant's
    entry, or one the access log does not show, is "not found", as a missing one is."""
    try:
        entry = entry_by_seq(session, seq)
    except EntryNotFound:
        entry = None
    if (
        entry is None
        or entry.subject_ref != runtime.trail.subject_ref(participant)
        or entry.action not in SHOWN_ACTIONS
    ):
        raise NotFound(f"no entry {seq} in your access log")
    return inclusion(session, runtime, seq, entry)


def _grantee(session: Session, participant: ParticipantRef, entry: AuditEntry) -> str | None:
    """Whom a consent entry's consent names (a party or a whole domain), for the sentence."""
    if not entry.action.startswith("consent.") or not entry.consent_ids:
        return None
    consent = session.get(Consent, entry.consent_ids[0])
    if consent is None or consent.participant_id != participant.id:
        return None
    return consent.grantee


def _self_or_operator(actor: str) -> str:
    return {"participant": "You", "operator": "The Schakel operator"}.get(actor, actor)

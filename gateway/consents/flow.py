"""The consents area's steps, shared by the API and the portal: give, narrow, withdraw, record on
paper, and the exports (history, FHIR Consent, signed receipt).

Every change is written to the audit log in the same transaction (GDPR Art. 7(1): the controller
must be able to demonstrate consent). A consent of another participant is 'not found'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from consent import service
from consent.errors import InvalidConsent
from consent.fhir import consent_resource
from consent.models import Consent
from consent.receipt import receipt_claims, sign_receipt
from consent.schemas import (
    ConsentAmendment,
    ConsentEventView,
    ConsentTerms,
    ConsentView,
    GivenBy,
    GivenHow,
    Vocabulary,
)
from gateway.audit_log.trail import PARTICIPANT_ACTOR
from gateway.auth.access_tokens import Caller, check_scope
from gateway.consents.schemas import PartnerConsentView, Receipt, RecordedConsent
from gateway.errors import Forbidden, NotFound
from gateway.identity.subjects import SubjectRef, resolve_or_enrol_subject, resolve_subject
from gateway.identity.vault import AUDIT_DOMAIN, ParticipantRef, pseudonym
from gateway.notices.flow import after_consent_closed, notifier_of
from gateway.registry.service import find_party
from gateway.runtime import Runtime
from gateway.signals.matching import notify_involved
from notice.schemas import Reason

COORDINATION = "case-coordination"
PARTICIPANT = (PARTICIPANT_ACTOR, PARTICIPANT_ACTOR)


def vocabulary(runtime: Runtime) -> Vocabulary:
    """The purposes a standing consent may name: a case conference asks consent for itself."""
    catalogue = runtime.catalogue
    return Vocabulary(purposes=catalogue.standing_purposes, domains=catalogue.domains)


def grantee_kind(runtime: Runtime, session: Session, grantee: str) -> str:
    """A grantee is an enabled party or a whole domain; anything else is refused (422)."""
    party = find_party(session, grantee)
    if party is not None and party.enabled:
        return "party"
    if grantee in runtime.catalogue.domains:
        return "domain"
    raise InvalidConsent(
        f"grantee {grantee!r} is neither an enabled party nor a domain",
        field="grantee",
        valid=sorted(runtime.catalogue.domains),
    )


def audit_change(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    *,
    action: Action,
    consent: ConsentView,
    participant: ParticipantRef,
    actor: tuple[str, str],
    reason: str | None = None,
) -> None:
    """One entry per consent change, naming the version and the one it supersedes."""
    runtime.trail.record(
        session,
        trace_id=trace_id,
        actor_party=actor[0],
        actor_domain=actor[1],
        action=action,
        outcome=Outcome.OK,
        participant=participant,
        purpose=consent.purpose,
        categories=consent.categories,
        consent_ids=[consent.id, *([consent.supersedes] if consent.supersedes else [])],
        reason=reason,
    )


def _granted(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    participant: ParticipantRef,
    terms: ConsentTerms,
    how: GivenHow,
    actor: tuple[str, str],
) -> ConsentView:
    """Grant, audit, and let a coordination consent tell the involved parties of each other."""
    consent = service.grant(
        session=session,
        participant_id=participant.id,
        terms=terms,
        how=how,
        grantee_kind=grantee_kind(runtime, session, terms.grantee),
        vocabulary=vocabulary(runtime),
        clock=runtime.clock,
    )
    shown = service.view_of(session=session, consent=consent, at=runtime.clock())
    audit_change(
        session, runtime, trace_id, action=Action.CONSENT_GRANT, consent=shown,
        participant=participant, actor=actor,
    )  # fmt: skip
    if terms.purpose == COORDINATION:
        notify_involved(
            session=session, runtime=runtime, trace_id=trace_id, participant=participant
        )
    return shown


# --- the participant's own consents -----------------------------------------------------------


def own_consents(
    session: Session, runtime: Runtime, participant: ParticipantRef
) -> list[ConsentView]:
    """Every version of the participant's consents, with their status now."""
    return service.list_consents(session=session, participant_id=participant.id, at=runtime.clock())


def own_consent(
    session: Session, runtime: Runtime, participant: ParticipantRef, consent_id: str
) -> ConsentView:
    consent = service.find_consent(
        session=session, participant_id=participant.id, consent_id=consent_id
    )
    return service.view_of(session=session, consent=consent, at=runtime.clock())


def already_given(
    session: Session, runtime: Runtime, participant: ParticipantRef, terms: ConsentTerms
) -> ConsentView | None:
    """A consent in force that already lets the same grantee see these categories for this
    purpose: giving it again would add a version that changes nothing."""
    for consent in service.consents_in_force(
        session=session, participant_id=participant.id, at=runtime.clock()
    ):
        same = consent.grantee == terms.grantee and consent.purpose == terms.purpose
        if same and set(terms.categories) <= set(consent.categories):
            return service.view_of(session=session, consent=consent, at=runtime.clock())
    return None


def give(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    participant: ParticipantRef,
    terms: ConsentTerms,
) -> ConsentView:
    """The participant gives consent themselves."""
    how = GivenHow(given_by=GivenBy.PARTICIPANT, recorded_by=PARTICIPANT_ACTOR)
    return _granted(session, runtime, trace_id, participant, terms, how, PARTICIPANT)


def amend(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    participant: ParticipantRef,
    consent_id: str,
    amendment: ConsentAmendment,
) -> ConsentView:
    """Narrow or change a consent: a new version supersedes it, in force for the next request."""
    successor = service.amend(
        session=session,
        participant_id=participant.id,
        consent_id=consent_id,
        amendment=amendment,
        actor=PARTICIPANT_ACTOR,
        vocabulary=vocabulary(runtime),
        clock=runtime.clock,
    )
    shown = service.view_of(session=session, consent=successor, at=runtime.clock())
    audit_change(
        session, runtime, trace_id, action=Action.CONSENT_AMEND, consent=shown,
        participant=participant, actor=PARTICIPANT,
    )  # fmt: skip
    narrowed = session.get(Consent, successor.supersedes)
    assert narrowed is not None  # an amendment always supersedes the version it amends
    after_consent_closed(
        session, notifier_of(runtime), trace_id, participant, closed=narrowed,
        successor_categories=successor.categories, reason=Reason.NARROWED,
    )  # fmt: skip
    return shown


def revoke(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    participant: ParticipantRef,
    consent_id: str,
    reason: str | None,
) -> ConsentView:
    """Withdraw a consent (GDPR Art. 7(3)): in force for the very next request."""
    revoked = service.revoke(
        session=session,
        participant_id=participant.id,
        consent_id=consent_id,
        reason=reason,
        actor=PARTICIPANT_ACTOR,
        clock=runtime.clock,
    )
    shown = service.view_of(session=session, consent=revoked, at=runtime.clock())
    audit_change(
        session, runtime, trace_id, action=Action.CONSENT_REVOKE, consent=shown,
        participant=participant, actor=PARTICIPANT, reason=reason,
    )  # fmt: skip
    after_consent_closed(
        session, notifier_of(runtime), trace_id, participant, closed=revoked,
        reason=Reason.WITHDRAWN,
    )  # fmt: skip
    return shown


def history(
    session: Session, runtime: Runtime, participant: ParticipantRef, consent_id: str
) -> list[ConsentEventView]:
    """Every event of a consent and of its versions before and after it."""
    versions = service.lineage(
        session=session, participant_id=participant.id, consent_id=consent_id
    )
    return service.history(
        session=session,
        participant_id=participant.id,
        at=runtime.clock(),
        consent_ids=[version.id for version in versions],
    )


def as_fhir(
    session: Session, runtime: Runtime, participant: ParticipantRef, consent_id: str
) -> dict[str, Any]:
    """The consent as an HL7 FHIR R4 Consent."""
    shown = own_consent(session, runtime, participant, consent_id)
    return consent_resource(shown, subject_pseudonym=_export_pseudonym(runtime, participant))


def receipt(
    session: Session, runtime: Runtime, participant: ParticipantRef, consent_id: str
) -> Receipt:
    """A signed receipt with the ISO/IEC TS 27560 consent-record fields (JWS, EdDSA)."""
    now = runtime.clock()
    shown = own_consent(session, runtime, participant, consent_id)
    events = service.history(
        session=session, participant_id=participant.id, at=now, consent_ids=[shown.id]
    )
    claims = receipt_claims(
        shown,
        events=events,
        subject_pseudonym=_export_pseudonym(runtime, participant),
        controller=runtime.settings.public_url,
        issued_at=now,
    )
    return Receipt(
        receipt=sign_receipt(claims, runtime.receipt_keys.current),
        jwks_uri=f"{runtime.settings.public_url}/v1/receipt-keys",
        claims=claims,
    )


def _export_pseudonym(runtime: Runtime, participant: ParticipantRef) -> str:
    """Exports name the participant by the audit-domain pseudonym: stable, and no BSN."""
    return pseudonym(runtime.identity_keys, AUDIT_DOMAIN, participant.id)


# --- partners ---------------------------------------------------------------------------------


def _check_recordable(
    session: Session, runtime: Runtime, caller: Caller, terms: ConsentTerms, now: datetime
) -> None:
    """A professional records consent for another party's benefit, within the token's purposes.

    Checked before the participant is looked up, so the answer does not depend on whether the
    participant is known. A party never records a consent that benefits itself or its domain:
    that one the participant gives (or another party records) — else a party could consent on
    a participant's behalf to its own access.
    """
    check_scope(caller, terms.purpose)
    if terms.grantee in {caller.party, caller.domain}:
        raise Forbidden(
            "a party cannot record a consent that benefits itself or its own domain; "
            "the participant gives it at /v1/me/consents, or another party records it",
            error="access_denied",
        )
    service.check_terms(
        terms.purpose, terms.categories, terms.valid_from or now, terms.valid_until,
        vocabulary(runtime), now,
    )  # fmt: skip
    grantee_kind(runtime, session, terms.grantee)


def record_on_paper(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    recorded: RecordedConsent,
) -> PartnerConsentView:
    """A professional records a consent given on paper or by a legal representative."""
    now = runtime.clock()
    terms = recorded.terms()
    _check_recordable(session, runtime, caller, terms, now)
    participant = resolve_or_enrol_subject(
        session,
        runtime.identity_keys,
        caller,
        recorded.subject,
        domains=runtime.catalogue.domains,
        now=now,
    )
    if participant is None:
        raise NotFound("no participant with this pseudonym in your domain")
    how = GivenHow(
        given_by=recorded.given_by,
        recorded_by=caller.party,
        evidence_ref=recorded.evidence_ref,
        representative_role=recorded.representative_role,
    )
    shown = _granted(
        session, runtime, trace_id, participant, terms, how, (caller.party, caller.domain)
    )
    return PartnerConsentView(
        subject_pseudonym=pseudonym(runtime.identity_keys, caller.domain, participant.id),
        consent=shown,
    )


def concerning_caller(
    session: Session, runtime: Runtime, trace_id: str | None, caller: Caller, subject: SubjectRef
) -> list[PartnerConsentView]:
    """The consents in force that name the caller or its domain; unknown and none look alike."""
    participant = resolve_subject(session, runtime.identity_keys, caller, subject)
    now = runtime.clock()
    concerning = (
        [
            consent
            for consent in service.consents_in_force(
                session=session, participant_id=participant.id, at=now
            )
            if consent.grantee in {caller.party, caller.domain}
        ]
        if participant is not None
        else []
    )
    runtime.trail.record(
        session, trace_id=trace_id, actor_party=caller.party, actor_domain=caller.domain,
        action=Action.CONSENT_QUERY, outcome=Outcome.OK, participant=participant,
        consent_ids=[consent.id for consent in concerning],
    )  # fmt: skip
    if participant is None:
        return []
    return [
        PartnerConsentView(
            subject_pseudonym=pseudonym(runtime.identity_keys, caller.domain, participant.id),
            consent=service.view_of(session=session, consent=consent, at=now),
        )
        for consent in concerning
    ]

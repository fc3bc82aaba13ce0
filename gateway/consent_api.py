"""Consent over HTTP: participants manage their own consents; professionals record paper ones.

Every change is written to the audit log in the same transaction (GDPR Art. 7(1): the controller
must be able to demonstrate consent). A consent of another participant is 'not found'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from audit.schemas import Outcome
from consent import service
from consent.errors import ConsentNotFound, InvalidConsent
from consent.fhir import consent_resource
from consent.receipt import receipt_claims, sign_receipt
from consent.schemas import (
    ConsentAmendment,
    ConsentEventView,
    ConsentTerms,
    ConsentView,
    GivenBy,
    GivenHow,
    RepresentativeRole,
    Revocation,
    Vocabulary,
)
from gateway.audit_trail import PARTICIPANT_ACTOR, record
from gateway.auth.access_tokens import Caller
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep
from gateway.errors import NotFound
from gateway.identity.models import Participant
from gateway.identity.vault import pseudonym
from gateway.registry.service import find_party
from gateway.runtime import Runtime
from gateway.signals import notify_involved
from gateway.subjects import SubjectRef, resolve_or_enrol_subject, resolve_subject

COORDINATION = "case-coordination"

participant_router = APIRouter(prefix="/v1/me/consents", tags=["participant: consents"])
partner_router = APIRouter(prefix="/v1/consents", tags=["partner: consents"])


def vocabulary(runtime: Runtime) -> Vocabulary:
    catalogue = runtime.catalogue
    return Vocabulary(purposes=dict(catalogue.purposes), domains=catalogue.domains)


def grantee_kind(runtime: Runtime, session: SessionDep, grantee: str) -> str:
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


def _after_grant(
    session: SessionDep, runtime: Runtime, request: Request, participant: Participant, purpose: str
) -> None:
    """A coordination consent may let parties that signalled involvement learn of each other."""
    if purpose == COORDINATION:
        notify_involved(session=session, runtime=runtime, request=request, participant=participant)


def _audit_change(
    *,
    session: SessionDep,
    runtime: Runtime,
    request: Request,
    action: str,
    consent: ConsentView,
    participant: Participant,
    actor_party: str,
    actor_domain: str,
    reason: str | None = None,
) -> None:
    record(
        session=session,
        runtime=runtime,
        request=request,
        actor_party=actor_party,
        actor_domain=actor_domain,
        action=action,
        outcome=Outcome.OK,
        participant=participant,
        purpose=consent.purpose,
        categories=consent.categories,
        consent_ids=[consent.id, *([consent.supersedes] if consent.supersedes else [])],
        reason=reason,
    )


# --- participant side -------------------------------------------------------------------------


@participant_router.get("", summary="My consents, every version, with their status now")
def my_consents(
    participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> list[ConsentView]:
    return service.list_consents(session=session, participant_id=participant.id, at=runtime.clock())


@participant_router.post("", status_code=status.HTTP_201_CREATED, summary="Give consent")
def give_consent(
    terms: ConsentTerms,
    request: Request,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> ConsentView:
    consent = service.grant(
        session=session,
        participant_id=participant.id,
        terms=terms,
        how=GivenHow(given_by=GivenBy.PARTICIPANT, recorded_by=PARTICIPANT_ACTOR),
        grantee_kind=grantee_kind(runtime, session, terms.grantee),
        vocabulary=vocabulary(runtime),
        clock=runtime.clock,
    )
    shown = service.view_of(session=session, consent=consent, at=runtime.clock())
    _audit_change(
        session=session, runtime=runtime, request=request, action="consent.grant", consent=shown,
        participant=participant, actor_party=PARTICIPANT_ACTOR, actor_domain=PARTICIPANT_ACTOR,
    )  # fmt: skip
    _after_grant(session, runtime, request, participant, terms.purpose)
    return shown


@participant_router.get("/{consent_id}", summary="One of my consents")
def my_consent(
    consent_id: str, participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> ConsentView:
    consent = service.find_consent(
        session=session, participant_id=participant.id, consent_id=consent_id
    )
    return service.view_of(session=session, consent=consent, at=runtime.clock())


@participant_router.post(
    "/{consent_id}/amendments",
    status_code=status.HTTP_201_CREATED,
    summary="Narrow or change a consent: a new version supersedes it",
)
def amend_consent(
    consent_id: str,
    amendment: ConsentAmendment,
    request: Request,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> ConsentView:
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
    _audit_change(
        session=session, runtime=runtime, request=request, action="consent.amend", consent=shown,
        participant=participant, actor_party=PARTICIPANT_ACTOR, actor_domain=PARTICIPANT_ACTOR,
    )  # fmt: skip
    return shown


@participant_router.post(
    "/{consent_id}/revocation", summary="Withdraw a consent; in force for the very next request"
)
def revoke_consent(
    consent_id: str,
    revocation: Revocation,
    request: Request,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> ConsentView:
    revoked = service.revoke(
        session=session,
        participant_id=participant.id,
        consent_id=consent_id,
        reason=revocation.reason,
        actor=PARTICIPANT_ACTOR,
        clock=runtime.clock,
    )
    shown = service.view_of(session=session, consent=revoked, at=runtime.clock())
    _audit_change(
        session=session, runtime=runtime, request=request, action="consent.revoke", consent=shown,
        participant=participant, actor_party=PARTICIPANT_ACTOR, actor_domain=PARTICIPANT_ACTOR,
        reason=revocation.reason,
    )  # fmt: skip
    return shown


@participant_router.get(
    "/{consent_id}/history", summary="Every event of a consent and its versions"
)
def consent_history(
    consent_id: str, participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> list[ConsentEventView]:
    now = runtime.clock()
    lineage = _lineage(session, participant.id, consent_id, now)
    return service.history(
        session=session, participant_id=participant.id, at=now, consent_ids=lineage
    )


@participant_router.get("/{consent_id}/fhir", summary="The consent as an HL7 FHIR R4 Consent")
def consent_as_fhir(
    consent_id: str, participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, Any]:
    consent = service.find_consent(
        session=session, participant_id=participant.id, consent_id=consent_id
    )
    shown = service.view_of(session=session, consent=consent, at=runtime.clock())
    return consent_resource(shown, subject_pseudonym=_own_pseudonym(runtime, participant))


class Receipt(BaseModel):
    receipt: Annotated[str, Field(description="Compact JWS (EdDSA); verify with jwks_uri")]
    jwks_uri: str
    claims: dict[str, Any]


@participant_router.get(
    "/{consent_id}/receipt", summary="A signed consent receipt (ISO/IEC TS 27560 fields, JWS)"
)
def consent_receipt(
    consent_id: str, participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> Receipt:
    now = runtime.clock()
    consent = service.find_consent(
        session=session, participant_id=participant.id, consent_id=consent_id
    )
    shown = service.view_of(session=session, consent=consent, at=now)
    events = service.history(
        session=session, participant_id=participant.id, at=now, consent_ids=[consent.id]
    )
    claims = receipt_claims(
        shown,
        events=events,
        subject_pseudonym=_own_pseudonym(runtime, participant),
        controller=runtime.settings.public_url,
        issued_at=now,
    )
    return Receipt(
        receipt=sign_receipt(claims, runtime.token_key),
        jwks_uri=f"{runtime.settings.public_url}/.well-known/jwks.json",
        claims=claims,
    )


def _own_pseudonym(runtime: Runtime, participant: Participant) -> str:
    """Exports name the participant by the audit-domain pseudonym: stable, and no BSN."""
    return pseudonym(runtime.identity_keys, "audit", participant.id)


def _lineage(session: SessionDep, participant_id: str, consent_id: str, at: datetime) -> list[str]:
    """The consent with every version before and after it, oldest first."""
    versions = {
        view.id: view
        for view in service.list_consents(session=session, participant_id=participant_id, at=at)
    }
    if consent_id not in versions:
        raise ConsentNotFound(f"no consent {consent_id}")
    successor = {view.supersedes: view.id for view in versions.values() if view.supersedes}
    first = consent_id
    while (earlier := versions[first].supersedes) is not None:
        first = earlier
    lineage: list[str] = []
    current: str | None = first
    while current is not None:
        lineage.append(current)
        current = successor.get(current)
    return lineage


# --- partner side -----------------------------------------------------------------------------


class RecordedConsent(ConsentTerms):
    """A consent the participant gave on paper, recorded by a professional, with its evidence."""

    subject: SubjectRef
    given_by: GivenBy = GivenBy.PROFESSIONAL
    representative_role: RepresentativeRole | None = None
    evidence_ref: str = Field(
        min_length=1, max_length=500, description="Reference to the signed form"
    )

    @model_validator(mode="after")
    def _representative_has_a_role(self) -> RecordedConsent:
        if self.given_by is GivenBy.PARTICIPANT:
            raise ValueError("a professional records consent given on paper or by a representative")
        if (self.given_by is GivenBy.REPRESENTATIVE) != (self.representative_role is not None):
            raise ValueError("representative_role is required for, and only for, a representative")
        return self


class PartnerConsentView(BaseModel):
    """What a party sees of a consent concerning itself: no BSN, its own domain's pseudonym."""

    subject_pseudonym: str
    consent: ConsentView


class ConsentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: SubjectRef


@partner_router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Record a consent given on paper"
)
def record_consent(
    recorded: RecordedConsent,
    request: Request,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> PartnerConsentView:
    now = runtime.clock()
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
    terms = ConsentTerms.model_validate(recorded.model_dump(include=set(ConsentTerms.model_fields)))
    consent = service.grant(
        session=session,
        participant_id=participant.id,
        terms=terms,
        how=GivenHow(
            given_by=recorded.given_by,
            recorded_by=caller.party,
            evidence_ref=recorded.evidence_ref,
            representative_role=recorded.representative_role,
        ),
        grantee_kind=grantee_kind(runtime, session, terms.grantee),
        vocabulary=vocabulary(runtime),
        clock=runtime.clock,
    )
    shown = service.view_of(session=session, consent=consent, at=now)
    _audit_change(
        session=session, runtime=runtime, request=request, action="consent.grant", consent=shown,
        participant=participant, actor_party=caller.party, actor_domain=caller.domain,
    )  # fmt: skip
    _after_grant(session, runtime, request, participant, terms.purpose)
    return PartnerConsentView(
        subject_pseudonym=_caller_pseudonym(runtime, caller, participant), consent=shown
    )


@partner_router.post(
    "/in-force",
    summary="Consents in force now that concern your party or your domain",
    description="An unknown participant and one without such consents give the same empty list.",
)
def consents_concerning_caller(
    query: ConsentQuery, caller: PartnerDep, runtime: RuntimeDep, session: SessionDep
) -> list[PartnerConsentView]:
    participant = resolve_subject(session, runtime.identity_keys, caller, query.subject)
    if participant is None:
        return []
    now = runtime.clock()
    concerning = [
        consent
        for consent in service.consents_in_force(
            session=session, participant_id=participant.id, at=now
        )
        if consent.grantee in {caller.party, caller.domain}
    ]
    return [
        PartnerConsentView(
            subject_pseudonym=_caller_pseudonym(runtime, caller, participant),
            consent=service.view_of(session=session, consent=consent, at=now),
        )
        for consent in concerning
    ]


def _caller_pseudonym(runtime: Runtime, caller: Caller, participant: Participant) -> str:
    return pseudonym(runtime.identity_keys, caller.domain, participant.id)

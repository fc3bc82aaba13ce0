"""Consent over HTTP, participant side: list, give, amend, revoke, history, FHIR, receipt.

Every change is written to the audit log in the same transaction (GDPR Art. 7(1): the controller
must be able to demonstrate consent). A consent of another participant is 'not found'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from audit.actions import Action
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
    Revocation,
    Vocabulary,
)
from gateway.audit_log.trail import PARTICIPANT_ACTOR, record
from gateway.deps import ParticipantDep, RuntimeDep, SessionDep
from gateway.identity.models import Participant
from gateway.identity.vault import ParticipantRef, pseudonym
from gateway.registry.service import find_party
from gateway.runtime import Runtime
from gateway.signals.matching import notify_involved

COORDINATION = "case-coordination"

participant_router = APIRouter(prefix="/v1/me/consents", tags=["participant: consents"])


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


def after_grant(
    session: SessionDep,
    runtime: Runtime,
    request: Request,
    participant: ParticipantRef,
    purpose: str,
) -> None:
    """A coordination consent may let parties that signalled involvement learn of each other."""
    if purpose == COORDINATION:
        notify_involved(session=session, runtime=runtime, request=request, participant=participant)


def audit_change(
    *,
    session: SessionDep,
    runtime: Runtime,
    request: Request,
    action: Action,
    consent: ConsentView,
    participant: ParticipantRef,
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
    audit_change(
        session=session, runtime=runtime, request=request, action=Action.CONSENT_GRANT, consent=shown,
        participant=participant, actor_party=PARTICIPANT_ACTOR, actor_domain=PARTICIPANT_ACTOR,
    )  # fmt: skip
    after_grant(session, runtime, request, participant, terms.purpose)
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
    audit_change(
        session=session, runtime=runtime, request=request, action=Action.CONSENT_AMEND, consent=shown,
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
    audit_change(
        session=session, runtime=runtime, request=request, action=Action.CONSENT_REVOKE, consent=shown,
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

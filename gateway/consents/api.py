"""Consent over HTTP. Participants list, give, narrow, withdraw and export their consents; a
professional records a consent given on paper, and a party reads the consents in force that
concern itself, never more. Steps: ``gateway.consents.flow``.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from consent.schemas import (
    ConsentAmendment,
    ConsentEventView,
    ConsentTerms,
    ConsentView,
    Revocation,
)
from gateway.consents import flow
from gateway.consents.schemas import ConsentQuery, PartnerConsentView, Receipt, RecordedConsent
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep, TraceDep
from gateway.disclosures.render import FhirJSONResponse
from gateway.openapi import fhir_answer

participant_router = APIRouter(prefix="/v1/me/consents", tags=["participant: consents"])
partner_router = APIRouter(prefix="/v1/consents", tags=["partner: consents"])

INVALID_CONSENT = (
    "A grantee, purpose or category the catalogue does not know, or dates out of order"
)
CLOSED = "The consent was already withdrawn, superseded or expired"


# --- participant side -------------------------------------------------------------------------


@participant_router.get("", summary="My consents, every version, with their status now")
def my_consents(
    participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> list[ConsentView]:
    return flow.own_consents(session, runtime, participant)


@participant_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Give consent",
    responses={422: {"description": INVALID_CONSENT}},
)
def give_consent(
    terms: ConsentTerms,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> ConsentView:
    return flow.give(session, runtime, trace_id, participant, terms)


@participant_router.get("/{consent_id}", summary="One of my consents")
def my_consent(
    consent_id: str, participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> ConsentView:
    return flow.own_consent(session, runtime, participant, consent_id)


@participant_router.post(
    "/{consent_id}/amendments",
    status_code=status.HTTP_201_CREATED,
    summary="Narrow or change a consent: a new version supersedes it",
    responses={409: {"description": CLOSED}, 422: {"description": INVALID_CONSENT}},
)
def amend_consent(
    consent_id: str,
    amendment: ConsentAmendment,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> ConsentView:
    return flow.amend(session, runtime, trace_id, participant, consent_id, amendment)


@participant_router.post(
    "/{consent_id}/revocation",
    summary="Withdraw a consent; in force for the very next request",
    responses={409: {"description": CLOSED}},
)
def revoke_consent(
    consent_id: str,
    revocation: Revocation,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> ConsentView:
    return flow.revoke(session, runtime, trace_id, participant, consent_id, revocation.reason)


@participant_router.get(
    "/{consent_id}/history", summary="Every event of a consent and its versions"
)
def consent_history(
    consent_id: str, participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> list[ConsentEventView]:
    return flow.history(session, runtime, participant, consent_id)


@participant_router.get(
    "/{consent_id}/fhir",
    summary="The consent as an HL7 FHIR R4 Consent",
    response_class=FhirJSONResponse,
    responses=fhir_answer("Consent", "The consent as a FHIR Consent resource"),
)
def consent_as_fhir(
    consent_id: str, participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> FhirJSONResponse:
    return FhirJSONResponse(flow.as_fhir(session, runtime, participant, consent_id))


@participant_router.get(
    "/{consent_id}/receipt", summary="A signed consent receipt (ISO/IEC TS 27560 fields, JWS)"
)
def consent_receipt(
    consent_id: str, participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> Receipt:
    return flow.receipt(session, runtime, participant, consent_id)


# --- partner side -----------------------------------------------------------------------------


@partner_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a consent given on paper",
    responses={403: {"description": "The access token does not carry the consent's purpose"}},
)
def record_consent(
    recorded: RecordedConsent,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> PartnerConsentView:
    return flow.record_on_paper(session, runtime, trace_id, caller, recorded)


@partner_router.post(
    "/in-force",
    summary="Consents in force now that concern your party or your domain",
    description="An unknown participant and one without such consents give the same empty list.",
)
def consents_concerning_caller(
    query: ConsentQuery,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> list[PartnerConsentView]:
    return flow.concerning_caller(session, runtime, trace_id, caller, query.subject)

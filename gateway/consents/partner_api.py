"""Consent over HTTP, partner side: a professional records a consent given on paper, and a party
reads the consents in force that concern itself — never more. Both are audited.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from audit.actions import Action
from audit.schemas import Outcome
from consent import service
from consent.schemas import (
    ConsentTerms,
    ConsentView,
    GivenBy,
    GivenHow,
    RepresentativeRole,
)
from gateway.audit_log.trail import record
from gateway.auth.access_tokens import Caller, check_scope
from gateway.consents.participant_api import after_grant, audit_change, grantee_kind, vocabulary
from gateway.deps import PartnerDep, RuntimeDep, SessionDep
from gateway.errors import Forbidden, NotFound
from gateway.identity.subjects import SubjectRef, resolve_or_enrol_subject, resolve_subject
from gateway.identity.vault import ParticipantRef, pseudonym
from gateway.runtime import Runtime

partner_router = APIRouter(prefix="/v1/consents", tags=["partner: consents"])


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


def _check_recordable(
    caller: Caller, terms: ConsentTerms, runtime: Runtime, session: SessionDep, now: datetime
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
    terms = ConsentTerms.model_validate(recorded.model_dump(include=set(ConsentTerms.model_fields)))
    _check_recordable(caller, terms, runtime, session, now)
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
    audit_change(
        session=session, runtime=runtime, request=request, action=Action.CONSENT_GRANT, consent=shown,
        participant=participant, actor_party=caller.party, actor_domain=caller.domain,
    )  # fmt: skip
    after_grant(session, runtime, request, participant, terms.purpose)
    return PartnerConsentView(
        subject_pseudonym=_caller_pseudonym(runtime, caller, participant), consent=shown
    )


@partner_router.post(
    "/in-force",
    summary="Consents in force now that concern your party or your domain",
    description="An unknown participant and one without such consents give the same empty list.",
)
def consents_concerning_caller(
    query: ConsentQuery,
    request: Request,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> list[PartnerConsentView]:
    participant = resolve_subject(session, runtime.identity_keys, caller, query.subject)
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
    record(
        session=session, runtime=runtime, request=request, actor_party=caller.party,
        actor_domain=caller.domain, action=Action.CONSENT_QUERY, outcome=Outcome.OK,
        participant=participant, consent_ids=[consent.id for consent in concerning],
    )  # fmt: skip
    if participant is None:
        return []
    return [
        PartnerConsentView(
            subject_pseudonym=_caller_pseudonym(runtime, caller, participant),
            consent=service.view_of(session=session, consent=consent, at=now),
        )
        for consent in concerning
    ]


def _caller_pseudonym(runtime: Runtime, caller: Caller, participant: ParticipantRef) -> str:
    return pseudonym(runtime.identity_keys, caller.domain, participant.id)

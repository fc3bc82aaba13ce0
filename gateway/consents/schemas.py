"""Request and response models of the consents area beyond the domain's own (``consent.schemas``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from consent.schemas import ConsentTerms, ConsentView, GivenBy, RepresentativeRole
from gateway.identity.subjects import SubjectRef


class Receipt(BaseModel):
    receipt: Annotated[str, Field(description="Compact JWS (EdDSA); verify with jwks_uri")]
    jwks_uri: str
    claims: dict[str, Any]


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

    def terms(self) -> ConsentTerms:
        return ConsentTerms.model_validate(self.model_dump(include=set(ConsentTerms.model_fields)))


class PartnerConsentView(BaseModel):
    """What a party sees of a consent concerning itself: no BSN, its own domain's pseudonym."""

    subject_pseudonym: str
    consent: ConsentView


class ConsentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: SubjectRef

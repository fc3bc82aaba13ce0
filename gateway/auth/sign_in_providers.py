"""Which OpenID providers sign people in: the participants' (a DigiD broker, from the settings)
and each organisation's own, for its officers and operators (``SCHAKEL_OFFICER_PROVIDERS_FILE``).

An organisation's provider says who the person is and, in a claim the operator names, which
groups they are in; the file maps a group to a role of the gateway. The role counts only while
the organisation's party holds it in the registry too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.auth.oidc import ProviderConfig, RelyingParty
from gateway.auth.roles import OFFICER_ROLE, OPERATOR_ROLE, REGIONAL_OFFICER_ROLE
from gateway.settings import Settings

SIGN_IN_ROLES = (OFFICER_ROLE, REGIONAL_OFFICER_ROLE, OPERATOR_ROLE)
PARTICIPANT_PROVIDER = "participant"


class ProviderFileError(ValueError):
    """The officer providers file cannot be used; the message names the entry and field."""


class OfficerProviderEntry(BaseModel):
    """One organisation's provider in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party: Annotated[str, Field(min_length=1, max_length=64)]
    issuer: Annotated[str, Field(pattern=r"^https?://")]
    client_id: Annotated[str, Field(min_length=1)]
    client_secret_file: Path | None = None
    scope: str = "openid"
    user_claim: str = "sub"
    roles_claim: str = "roles"
    roles: dict[str, str] = Field(description="gateway role -> the claim value that grants it")
    acr_levels: list[str] = Field(default_factory=list)
    minimum_acr: str | None = None

    @field_validator("issuer")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(SIGN_IN_ROLES))
        if unknown or not value:
            raise ValueError(f"map one or more of {', '.join(SIGN_IN_ROLES)}; not {unknown}")
        return value


class OfficerProvidersDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    providers: list[OfficerProviderEntry]


@dataclass(frozen=True)
class OfficerProvider:
    """An organisation's provider and how its claims become the gateway's roles."""

    party: str
    relying_party: RelyingParty
    user_claim: str
    roles_claim: str
    roles: Mapping[str, str]

    def user_of(self, claims: Mapping[str, Any]) -> str | None:
        user = claims.get(self.user_claim)
        return user if isinstance(user, str) and 0 < len(user) <= 255 else None

    def roles_of(self, claims: Mapping[str, Any]) -> list[str]:
        """The gateway roles whose group the claim names (a list of groups or one group)."""
        given = claims.get(self.roles_claim)
        listed = given if isinstance(given, list) else [given]
        groups = {group for group in listed if isinstance(group, str)}
        return sorted(role for role, group in self.roles.items() if group in groups)


@dataclass(frozen=True)
class SignInProviders:
    participant: RelyingParty | None
    officers: Mapping[str, OfficerProvider]


def sign_in_providers(settings: Settings) -> SignInProviders:
    """Build the relying parties; nothing is fetched until someone signs in."""
    leeway = settings.clock_skew_seconds
    participant = None
    if settings.participant_oidc_issuer and settings.participant_oidc_client_id:
        secret = settings.participant_oidc_client_secret
        participant = RelyingParty(
            ProviderConfig(
                name=PARTICIPANT_PROVIDER,
                issuer=settings.participant_oidc_issuer,
                client_id=settings.participant_oidc_client_id,
                client_secret=secret.get_secret_value() if secret is not None else None,
                scope=settings.participant_oidc_scope,
                acr_levels=tuple(settings.participant_oidc_acr_levels),
                minimum_acr=settings.participant_oidc_minimum_acr,
            ),
            leeway_seconds=leeway,
        )
    officers = {}
    if settings.officer_providers_file is not None:
        for entry in read_officer_providers(settings.officer_providers_file):
            officers[entry.party] = OfficerProvider(
                party=entry.party,
                relying_party=RelyingParty(_config_of(entry), leeway_seconds=leeway),
                user_claim=entry.user_claim,
                roles_claim=entry.roles_claim,
                roles=dict(entry.roles),
            )
    return SignInProviders(participant=participant, officers=officers)


def read_officer_providers(path: Path) -> list[OfficerProviderEntry]:
    """The file's entries, checked; an error names the entry and field, never a secret."""
    try:
        document = OfficerProvidersDocument.model_validate(json.loads(path.read_text("utf-8")))
    except OSError as error:
        raise ProviderFileError(f"SCHAKEL_OFFICER_PROVIDERS_FILE: {error.strerror}") from None
    except ValueError as error:
        lines = (
            [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
            if isinstance(error, ValidationError)
            else ["not JSON"]
        )
        raise ProviderFileError(f"SCHAKEL_OFFICER_PROVIDERS_FILE: {'; '.join(lines)}") from None
    parties = [entry.party for entry in document.providers]
    if len(set(parties)) != len(parties):
        raise ProviderFileError("SCHAKEL_OFFICER_PROVIDERS_FILE: one provider per party")
    for entry in document.providers:
        if entry.minimum_acr is not None and entry.minimum_acr not in entry.acr_levels:
            raise ProviderFileError(f"{entry.party}: minimum_acr must be one of acr_levels")
    return document.providers


def _config_of(entry: OfficerProviderEntry) -> ProviderConfig:
    secret = None
    if entry.client_secret_file is not None:
        try:
            secret = entry.client_secret_file.read_text("utf-8").strip()
        except OSError as error:
            raise ProviderFileError(
                f"{entry.party}: client_secret_file: {error.strerror}"
            ) from None
    return ProviderConfig(
        name=entry.party, issuer=entry.issuer, client_id=entry.client_id, client_secret=secret,
        scope=entry.scope, acr_levels=tuple(entry.acr_levels), minimum_acr=entry.minimum_acr,
    )  # fmt: skip

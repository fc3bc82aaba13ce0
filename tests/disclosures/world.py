"""A gateway with three partners, a participant issuer and contributed data, for flow tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from audit.models import AuditEntry
from gateway.core.db import transaction
from gateway.identity.vault import enrol
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.storage.service import store_contribution
from tests.consents.oidc import ParticipantIssuer, running_issuer
from tests.support import (
    Partner,
    SettableClock,
    new_partner,
    register,
    running_gateway,
    token_request,
)

SAM = "999900006"
NOOR = "999900018"
UNKNOWN = "999900043"
TOKEN_AUDIENCE = "http://testserver/oauth/token"

SAMPLE_FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "care.involvement": ("ggz-leiden", {"in_care": True, "since": "2025-03-01", "coordinator_contact": "GGZ Leiden, 071-1234567"}),
    "care.work_readiness": ("ggz-leiden", {"assessed_at": "2026-10-01", "readiness": "ready-with-support", "ips_stage": "job-search", "summary": "wants 16 h/week"}),
    "care.diagnosis": ("ggz-leiden", {"code": "F32.1", "system": "ICD-10", "display": "depressive episode", "recorded_at": "2025-02-01"}),
    "work.capacity": ("uwv-leiden", {"assessed_at": "2026-06-01", "hours_per_week": 20, "restrictions_summary": "no night shifts"}),
    "income.benefit": ("gemeente-leiden", {"benefit_type": "Participatiewet", "status": "active", "since": "2024-01-01", "until": None}),
}  # fmt: skip


@dataclass
class World:
    runtime: Runtime
    client: TestClient
    issuer: ParticipantIssuer
    clock: SettableClock
    partners: dict[str, Partner]

    def partner_headers(self, name: str, **extra: str) -> dict[str, str]:
        partner = self.partners[name]
        response = token_request(
            self.client, partner.assertion(audience=TOKEN_AUDIENCE, now=self.clock()), **extra
        )
        assert response.status_code == 200, response.text
        return {
            "Authorization": f"Bearer {response.json()['access_token']}",
            "X-Schakel-User": f"{name}/medewerker-1",  # the professional acting (NEN 7513)
        }

    def consent(
        self, bsn: str, grantee: str, purpose: str, categories: list[str]
    ) -> dict[str, Any]:
        response = self.client.post(
            "/v1/me/consents",
            json={"grantee": grantee, "purpose": purpose, "categories": categories},
            headers=self.issuer.headers(bsn),
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def contribute(self, bsn: str, category: str, **fields: Any) -> None:
        """A realistic sample contribution from the category's usual source party."""
        party, sample = SAMPLE_FIELDS[category]
        self._store(bsn, category, party, {**sample, **fields})

    def contribute_raw(self, bsn: str, category: str, party: str) -> None:
        """A contribution with one value per catalogue field of the category."""
        catalogue_fields = self.runtime.catalogue.categories[category]
        self._store(bsn, category, party, {name: f"{category}:{name}" for name in catalogue_fields})

    def _store(self, bsn: str, category: str, party: str, fields: dict[str, Any]) -> None:
        with transaction(self.runtime.sessions) as session:
            participant = enrol(
                session=session, keys=self.runtime.identity_keys, bsn=bsn,
                domains=self.runtime.catalogue.domains, now=self.clock(),
            )  # fmt: skip
            store_contribution(
                session=session, keks=self.runtime.keks, participant_id=participant.id,
                category=category, source_party=party, source_domain=self.partners[party].domain,
                observed_at=self.clock(), fields=fields, now=self.clock(),
            )  # fmt: skip

    def disclose(
        self, requester: str, bsn: str, purpose: str, categories: list[str], **extra: Any
    ) -> Any:
        headers = extra.pop("headers", None) or self.partner_headers(requester)
        body = {"subject": {"bsn": bsn}, "purpose": purpose, "categories": categories, **extra}
        return self.client.post("/v1/disclosures", json=body, headers=headers)

    def audit_entries(self) -> list[AuditEntry]:
        with transaction(self.runtime.sessions) as session:
            return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


PARTNERS = (
    ("ggz-leiden", "ggz", "EdDSA", ("care-coordinator",)),
    ("uwv-leiden", "uwv", "ES256", ("reintegration-advisor",)),
    ("gemeente-leiden", "gemeente", "ES256", ("case-manager",)),
    ("clientsteun-leiden", "client-support", "EdDSA", ("client-supporter",)),
)


@contextmanager
def running_world(
    settings: Settings, partners: dict[str, Partner] | None = None
) -> Iterator[World]:
    """A gateway on ``settings``; the partners are registered unless an earlier world did so."""
    clock = SettableClock(datetime.now(UTC).replace(microsecond=0))
    with running_issuer() as issuer:
        configured = settings.model_copy(update={"participant_oidc_issuer": issuer.url})
        with running_gateway(configured, clock) as (runtime, client):
            if partners is None:
                partners = {}
                for party, domain, alg, roles in PARTNERS:
                    partner = new_partner(
                        party,
                        domain,
                        alg,
                        roles=roles,
                        purposes=("reintegration", "case-coordination", "case-conference"),
                    )
                    register(runtime, partner)
                    partners[party] = partner
            yield World(runtime, client, issuer, clock, partners)

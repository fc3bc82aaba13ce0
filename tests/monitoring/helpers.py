"""A monitoring world: the disclosure world's partners, the statistics offices of Holland
Rijnland (counts on consent) and Zeeland (counts on its own agreement), and a re-integration
provider that contributes trajectories; facts sealed as contributions, consents given by the
participants themselves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import httpx
import rfc8785
from joserfc import jws
from joserfc.jwk import KeySet

from consent.schemas import ConsentTerms, GivenBy, GivenHow
from consent.service import grant
from gateway.core.db import transaction
from gateway.identity.vault import enrol
from gateway.settings import Settings
from gateway.storage.service import store_contribution
from monitoring.facts import CATEGORIES
from tests.disclosures.world import World, running_world
from tests.support import new_partner, register

OFFICE, ZEELAND_OFFICE, PROVIDER = "stuurgroep-holland-rijnland", "stuurgroep-zeeland", "dzb-leiden"
LEIDEN, LISSE, MIDDELBURG = "GM0546", "GM0553", "GM0687"
EXTRA = (
    (OFFICE, "region", ("regional-statistics",), ("regional-monitoring",)),
    (ZEELAND_OFFICE, "region", ("regional-statistics",), ("regional-monitoring",)),
    (PROVIDER, "reintegration-provider", ("trajectory-coach",), ("reintegration",)),
)


@contextmanager
def monitoring_world(settings: Settings, **overrides: Any) -> Iterator[World]:
    configured = settings.model_copy(
        update={"webhook_interval_seconds": 0, "notice_sweep_seconds": 0, **overrides}
    )
    with running_world(configured) as world:
        for party, domain, roles, purposes in EXTRA:
            partner = new_partner(party, domain, "EdDSA", roles=roles, purposes=purposes)
            register(world.runtime, partner)
            world.partners[party] = partner
        yield world


def bsns(count: int, start: int = 2000) -> list[str]:
    """Test BSNs (9999xxxxx) that pass the 11-proof."""
    from gateway.demo.trajectories import demo_bsns

    found = list(demo_bsns(count + start // 10))
    return found[start // 10 :][:count]


def trajectory(
    world: World,
    bsn: str,
    *,
    municipality: str = LEIDEN,
    method: str = "ips",
    started: date,
    outcome: str | None = None,
    months: int = 4,
    hours: int | None = None,
    milestones: tuple[str, ...] = ("intake",),
    consent: bool = True,
    reference: str | None = None,
) -> None:
    """A trajectory's facts sealed as the provider contributed them; and, unless told not to,
    the participant's consent to be counted (given by themselves, as in the portal)."""
    now = world.clock()
    ended = started + timedelta(days=30 * months)
    facts = [("trajectory.start", {"reference": reference or bsn, "method": method,
              "provider": "DZB", "municipality": municipality,
              "started_on": started.isoformat()})]  # fmt: skip
    facts += [("trajectory.milestone", {"reference": reference or bsn, "milestone": m,
               "reached_on": (started + timedelta(days=7 * (i + 1))).isoformat()})
              for i, m in enumerate(milestones)]  # fmt: skip
    if outcome is not None:
        facts.append(("trajectory.outcome", {"reference": reference or bsn, "outcome": outcome,
                      "ended_on": ended.isoformat(), "hours_per_week": hours}))  # fmt: skip
    runtime = world.runtime
    with transaction(runtime.sessions) as session:
        participant = enrol(session=session, keys=runtime.identity_keys, bsn=bsn,
                            domains=runtime.catalogue.domains, now=now)  # fmt: skip
        for category, fields in facts:
            store_contribution(
                session=session, keks=runtime.keks, participant_id=participant.id,
                category=category, source_party=PROVIDER, source_domain="reintegration-provider",
                observed_at=now, fields={k: v for k, v in fields.items() if v is not None},
                now=now,
            )  # fmt: skip
        if consent:
            grant(
                session=session, participant_id=participant.id,
                terms=ConsentTerms(grantee="region", purpose="regional-monitoring",
                                   categories=list(CATEGORIES)),
                how=GivenHow(given_by=GivenBy.PARTICIPANT, recorded_by="participant"),
                grantee_kind="domain", vocabulary=_vocabulary(world), clock=world.clock,
            )  # fmt: skip


def _vocabulary(world: World) -> Any:
    from gateway.consents.flow import vocabulary

    return vocabulary(world.runtime)


def ask(world: World, party: str = OFFICE, **body: Any) -> httpx.Response:
    request = {"region": "holland-rijnland", "since": "2026-01-01", "until": "2026-12-31", **body}
    return world.client.post(
        "/v1/monitoring/releases", json=request, headers=world.partner_headers(party)
    )


def released(world: World, party: str = OFFICE, **body: Any) -> dict[str, Any]:
    response = ask(world, party, **body)
    assert response.status_code == 201, response.text
    signed: dict[str, Any] = response.json()
    assert verified(world, signed)
    release: dict[str, Any] = signed["release"]
    return release


def verified(world: World, signed: dict[str, Any]) -> bool:
    """The detached JWS over the RFC 8785 bytes, checked with the published JWKS alone."""
    keys = KeySet.import_key_set(world.client.get("/.well-known/jwks.json").json())
    head, _, signature = signed["signature"]["jws"].split(".")
    payload = rfc8785.dumps(signed["release"])
    import base64

    encoded = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    try:
        jws.deserialize_compact(f"{head}.{encoded}.{signature}", keys, algorithms=["EdDSA"])
    except Exception:
        return False
    return True


def table(release: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in release["tables"] if t["name"] == name)
    return found


def published_values(release: dict[str, Any]) -> list[int]:
    """Every number a release publishes: cells, margins and totals."""
    values = []
    for shown in release["tables"]:
        counts = [*shown["cells"], shown["total"]]
        counts += [c for margin in shown["margins"].values() for c in margin]
        values += [c["count"] for c in counts if c["count"] is not None]
    return values


def as_json(response: httpx.Response) -> Any:
    return json.loads(response.content)

"""Generated trajectories for the demo, so the steering group's page has something to show:
several hundred participants of Holland Rijnland and Zeeland, each contributed by a demo party
as a ``trajectory-json`` message and, in a consent region, mostly with a consent to be counted.

Everything goes through the flows partners and participants use (``contribute``, ``give``), so
the facts are sealed and every step is on record. Generated from a fixed seed: the same demo
every time, relative to the day it is seeded.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.vocabulary import TRAJECTORY_METHODS, TRAJECTORY_MILESTONES
from bsn import is_valid_bsn
from consent.schemas import ConsentTerms
from gateway.auth.access_tokens import Caller
from gateway.consents.flow import give
from gateway.contributions.flow import contribute
from gateway.demo.seed import DEMO_PARTICIPANTS
from gateway.identity.vault import find_by_bsn
from gateway.registry.service import find_party
from gateway.runtime import Runtime
from gateway.storage.models import Contribution
from monitoring.facts import CATEGORIES, START

SEED = 20261208
# Who sends a method's trajectories: IPS from GGZ, the social development company from DZB.
SENDERS = {
    "ips": "ggz-leiden",
    "social-development-company": "dzb-leiden",
    "uwv-provider": "uwv-leiden",
    "other": "gemeente-leiden",
}
PROVIDERS = {
    "ips": "IPS-team GGZ",
    "social-development-company": "DZB Leiden",
    "uwv-provider": "Re-integratiebureau (UWV-inkoop)",
    "other": "Gemeente, eigen traject",
}
# How likely each outcome is per method (paid work, education, volunteer work, day activity,
# without result): IPS places more people in paid work.
OUTCOME_WEIGHTS = {
    "ips": (46, 8, 10, 8, 28),
    "social-development-company": (30, 6, 16, 22, 26),
    "uwv-provider": (34, 10, 8, 6, 42),
    "other": (22, 10, 20, 18, 30),
}
OUTCOMES = ("paid-work", "education", "volunteer-work", "day-activity", "no-result")
REGIONS = {"holland-rijnland": 380, "zeeland": 100}
CONSENTING = 0.85


@dataclass(frozen=True)
class Seeded:
    participants: int
    consents: int


def demo_bsns(count: int) -> Iterator[str]:
    """BSNs from the 9999xxxxx test range that pass the 11-proof, apart from the named demo
    participants."""
    taken = {participant.bsn for participant in DEMO_PARTICIPANTS}
    number = 1000
    found = 0
    while found < count:
        candidate = f"9999{number:05d}"
        number += 1
        if is_valid_bsn(candidate) and candidate not in taken:
            found += 1
            yield candidate


def seed_trajectories(
    session: Session, runtime: Runtime, *, today: date, regions: dict[str, int] | None = None
) -> Seeded | None:
    """Seed the demo trajectories once (``regions``: how many in each, default ``REGIONS``);
    None when trajectories are there already."""
    existing = session.scalar(
        select(func.count()).select_from(Contribution).where(Contribution.category == START)
    )
    if existing:
        return None
    rng = random.Random(SEED)  # noqa: S311 - demo data, the same on purpose
    municipalities = runtime.catalogue.municipalities
    consents = participants = 0
    regions = regions or REGIONS
    bsns = demo_bsns(sum(regions.values()))
    for region, count in regions.items():
        codes = sorted(code for code, m in municipalities.items() if m.region == region)
        weights = [6 if code in ("GM0546", "GM0687", "GM0664") else 1 for code in codes]
        for index in range(count):
            bsn = next(bsns)
            method = rng.choices(TRAJECTORY_METHODS, weights=(34, 30, 24, 12))[0]
            message = _message(rng, bsn, method, rng.choices(codes, weights)[0], today, index)
            caller = _caller(session, SENDERS[method])
            contribute(
                session, runtime, None, caller, format_name="trajectory-json",
                content_type="application/json", body=json.dumps(message).encode(),
                idempotency_key=None,
            )  # fmt: skip
            participants += 1
            basis = runtime.catalogue.monitoring[region].basis
            if basis == "consent" and rng.random() < CONSENTING:
                participant = find_by_bsn(session, runtime.identity_keys, bsn)
                assert participant is not None
                terms = ConsentTerms(
                    grantee="region", purpose="regional-monitoring", categories=list(CATEGORIES)
                )
                give(session, runtime, None, participant, terms)
                consents += 1
    return Seeded(participants, consents)


def _message(
    rng: random.Random, bsn: str, method: str, municipality: str, today: date, index: int
) -> dict[str, Any]:
    started = today - timedelta(days=rng.randint(20, 440))
    months = rng.choice((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14))
    ended = started + timedelta(days=int(months * 30.4) + rng.randint(0, 20))
    trajectory: dict[str, Any] = {
        "reference": f"DEMO-{index:04d}-{municipality}",
        "method": method,
        "provider": PROVIDERS[method],
        "municipality": municipality,
        "startDate": started.isoformat(),
    }
    reached = rng.randint(1, len(TRAJECTORY_MILESTONES))
    step = max((min(ended, today) - started).days // (reached + 1), 1)
    trajectory["milestones"] = [
        {"code": code, "date": (started + timedelta(days=step * (i + 1))).isoformat()}
        for i, code in enumerate(TRAJECTORY_MILESTONES[:reached])
    ]
    if ended < today:
        outcome = rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS[method])[0]
        trajectory["outcome"] = {"code": outcome, "date": ended.isoformat()}
        if outcome == "paid-work":
            trajectory["outcome"]["hoursPerWeek"] = rng.choice((8, 12, 16, 20, 24, 28, 32, 36))
    return {
        "messageVersion": "1",
        "sender": SENDERS[method],
        "sentAt": f"{min(ended, today).isoformat()}T10:00:00+01:00",
        "participant": {"bsn": bsn},
        "trajectory": trajectory,
    }


def _caller(session: Session, party_id: str) -> Caller:
    party = find_party(session, party_id)
    assert party is not None, f"seed the demo parties first ({party_id})"
    return Caller(
        party=party.id, domain=party.domain, roles=tuple(party.roles),
        purposes=tuple(party.purposes), token_id="demo-seed",  # noqa: S106 - a label
    )  # fmt: skip

"""Demo data for the embedded default: the partner systems around one region, with their keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from gateway.auth.partner_keys import generate_partner_key, read_private_key, write_key_pair
from gateway.core.catalogue import Catalogue
from gateway.core.clock import Clock
from gateway.identity.keys import IdentityKeys
from gateway.identity.vault import enrol
from gateway.registry.models import Party
from gateway.registry.service import add_party, find_party


@dataclass(frozen=True)
class DemoParty:
    id: str
    domain: str
    display_name: str
    roles: tuple[str, ...]
    purposes: tuple[str, ...]
    alg: str


DEMO_PARTIES = (
    DemoParty(
        "ggz-leiden", "ggz", "GGZ Leiden (demo)",
        ("care-coordinator", "ips-job-coach", "privacy-officer"),
        ("reintegration", "case-coordination", "case-conference"), "EdDSA",
    ),
    DemoParty(
        "uwv-leiden", "uwv", "UWV Leiden (demo)",
        ("reintegration-advisor",), ("reintegration", "case-coordination", "case-conference"),
        "ES256",
    ),
    DemoParty(
        "gemeente-leiden", "gemeente", "Gemeente Leiden (demo)",
        # The municipality runs the region's gateway: its officer oversees the whole log.
        ("case-manager", "privacy-officer", "regional-privacy-officer", "reintegration-advisor"),
        ("reintegration", "case-coordination", "case-conference"), "ES256",
    ),
    DemoParty(
        "clientsteun-leiden", "client-support", "Cliëntondersteuning Leiden (demo)",
        ("client-supporter",), ("reintegration",), "EdDSA",
    ),
    DemoParty(
        "dzb-leiden", "reintegration-provider", "DZB Leiden (demo)",
        ("trajectory-coach", "life-coach"),
        ("reintegration", "case-coordination", "case-conference"), "ES256",
    ),
    DemoParty(
        "ervaring-leiden", "peer-support", "Ervaringsdeskundigen Leiden (demo)",
        ("peer-supporter",), ("reintegration", "case-conference"), "EdDSA",
    ),
    DemoParty(
        "werkgever-leiden", "employer", "Bakkerij De Zon, werkgever (demo)",
        ("employer-representative",), ("reintegration", "case-conference"), "ES256",
    ),
    DemoParty(
        "opvang-leiden", "shelter", "Maatschappelijke opvang Leiden (demo)",
        ("shelter-worker",), ("reintegration", "case-conference"), "EdDSA",
    ),
    DemoParty(
        "stuurgroep-holland-rijnland", "region", "Stuurgroep Holland Rijnland (demo)",
        ("regional-statistics",), ("regional-monitoring",), "EdDSA",
    ),
    DemoParty(
        "stuurgroep-zeeland", "region", "Stuurgroep Zeeland (demo)",
        ("regional-statistics",), ("regional-monitoring",), "EdDSA",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class DemoParticipant:
    bsn: str  # from the 9999xxxxx range, which passes the 11-proof and is no real person's
    name: str


DEMO_PARTICIPANTS = (
    DemoParticipant("999900006", "Sam de Vries"),
    DemoParticipant("999900018", "Noor Bakker"),
    DemoParticipant("999900031", "Daan Jansen"),
)


def _widen(session: Session, catalogue: Catalogue, party: Party, demo: DemoParty) -> None:
    roles = sorted({*party.roles, *demo.roles})
    purposes = sorted({*party.purposes, *demo.purposes})
    if roles != sorted(party.roles) or purposes != sorted(party.purposes):
        catalogue.check_party_profile(domain=party.domain, roles=roles, purposes=purposes)
        party.roles, party.purposes = roles, purposes
        session.flush()


def seed_demo_participants(
    *, session: Session, keys: IdentityKeys, catalogue: Catalogue, clock: Clock
) -> None:
    """Enrol the demo participants, so partners can name them by BSN or pseudonym."""
    for demo in DEMO_PARTICIPANTS:
        enrol(session=session, keys=keys, bsn=demo.bsn, domains=catalogue.domains, now=clock())


def seed_demo(*, session: Session, catalogue: Catalogue, clock: Clock, folder: Path) -> list[str]:
    """Register the demo parties that are missing; keys go to ``folder/<party>/``. Idempotent:
    a demo party seeded by an older version gains the roles and purposes it has now."""
    created = []
    for demo in DEMO_PARTIES:
        key_file = folder / demo.id / "private.jwk.json"
        existing = find_party(session, demo.id)
        if existing is not None:
            _widen(session, catalogue, existing, demo)
            continue
        key = (
            read_private_key(key_file)
            if key_file.exists()
            else generate_partner_key(demo.alg, kid=f"{demo.id}-1")
        )
        write_key_pair(key, folder / demo.id)
        add_party(
            session=session,
            catalogue=catalogue,
            party_id=demo.id,
            domain=demo.domain,
            display_name=demo.display_name,
            jwks={"keys": [key.as_dict(private=False)]},
            purposes=demo.purposes,
            roles=demo.roles,
            now=clock(),
        )
        created.append(demo.id)
    return created

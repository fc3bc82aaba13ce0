"""Every requester domain x purpose x category x consent state, through the HTTP API, against a
table computed here from the catalogue alone (an oracle independent of the Rego policies)."""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.settings import Settings
from tests.disclosures.world import PARTNERS, World, running_world

CATALOGUE: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "policies/schakel/catalogue/data.json").read_text()
)
CATEGORIES = sorted(CATALOGUE["categories"])
# A statistics purpose is never a disclosure (releases have tests of their own).
PURPOSES = sorted(p for p, entry in CATALOGUE["purposes"].items() if not entry.get("statistics"))
STANDING_PURPOSES = [p for p in PURPOSES if not CATALOGUE["purposes"][p].get("conference")]
CONSENT_STATES = ("none", "domain", "party", "revoked", "other-purpose")
SOURCE = {"care": "ggz-leiden", "work": "uwv-leiden", "income": "gemeente-leiden", "social": "gemeente-leiden", "plan": "gemeente-leiden", "trajectory": "uwv-leiden"}  # fmt: skip


def bsns() -> Iterator[str]:
    """Test BSNs from the 9999xxxxx range that pass the 11-proof."""
    for number in range(999_900_000, 999_999_999):
        digits = f"{number:09d}"
        weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
        if sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0:
            yield digits


def expected(domain: str, role: str, purpose: str, category: str, state: str) -> bool:
    """Disclosed iff the purpose admits the requester and the category and a consent covers it;
    a case conference's purpose never outside a conference, and never beyond a domain's reach."""
    entry = CATALOGUE["purposes"][purpose]
    if entry.get("conference") or role not in entry["requesters"].get(domain, []):
        return False
    if category not in entry["categories"]:
        return False
    spec = CATALOGUE["categories"][category]
    if spec["sensitivity"] == "clinical" and domain not in spec["sources"]:
        return False
    profile = CATALOGUE["domains"][domain]
    if profile.get("care_data") == "never" and spec.get("care_data"):
        return False
    if "reach" in profile and category not in profile["reach"]:
        return False
    if state == "party":
        return True
    party_only = (
        CATALOGUE["domains"][domain].get("consent_grantee") == "party"
        or spec["sensitivity"] == "clinical"
    )
    return state == "domain" and not party_only


@pytest.fixture(scope="module")
def matrix_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("matrix")
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=folder / "var",
        database_url=f"sqlite:///{folder / 'schakel.db'}",
        public_url="http://testserver",
    )


@pytest.fixture(scope="module")
def world(matrix_settings: Settings) -> Iterator[World]:
    with running_world(matrix_settings) as running:
        yield running


def _set_state(world: World, bsn: str, party: str, domain: str, purpose: str, state: str) -> None:
    for category in CATEGORIES:
        if category != "care.diagnosis":  # plan categories too: a contribution in every one
            source = SOURCE[category.split(".")[0]]
            world.contribute_raw(bsn, category, source)
    consentable = sorted(set(CATALOGUE["purposes"][purpose]["categories"]))
    if state == "none":
        return
    if state == "other-purpose":
        other = next(p for p in STANDING_PURPOSES if p != purpose)
        world.consent(bsn, domain, other, sorted(set(CATALOGUE["purposes"][other]["categories"])))
        return
    grantee = party if state in {"party", "revoked"} else domain
    if purpose not in STANDING_PURPOSES:
        # A case conference asks consent for itself: a standing one is refused.
        refused = world.client.post(
            "/v1/me/consents",
            json={"grantee": grantee, "purpose": purpose, "categories": consentable},
            headers=world.issuer.headers(bsn),
        )
        assert refused.status_code == 422, refused.text
        return
    consent = world.consent(bsn, grantee, purpose, consentable)
    if state == "revoked":
        response = world.client.post(
            f"/v1/me/consents/{consent['id']}/revocation",
            json={},
            headers=world.issuer.headers(bsn),
        )
        assert response.status_code == 200


def test_every_combination_matches_the_expected_table(world: World) -> None:
    numbers = bsns()
    mismatches = []
    checked = 0
    for (party, domain, _, roles), purpose, state in itertools.product(
        PARTNERS, PURPOSES, CONSENT_STATES
    ):
        bsn = next(numbers)
        _set_state(world, bsn, party, domain, purpose, state)
        response = world.disclose(party, bsn, purpose, CATEGORIES)
        assert response.status_code == 200, response.text
        disclosed = {item["category"] for item in response.json()["disclosed"]}
        for category in CATEGORIES:
            want = expected(domain, roles[0], purpose, category, state)
            if want != (category in disclosed):
                mismatches.append((domain, purpose, category, state, want))
            checked += 1
    assert checked == len(PARTNERS) * len(PURPOSES) * len(CONSENT_STATES) * len(CATEGORIES)
    assert mismatches == []


def test_guessed_or_foreign_pseudonyms_reach_nothing(world: World) -> None:
    numbers = bsns()
    for _ in range(500):  # past the numbers the matrix used
        next(numbers)
    bsn = next(numbers)
    world.contribute_raw(bsn, "care.involvement", "ggz-leiden")
    world.consent(bsn, "uwv", "reintegration", ["care.involvement"])
    world.consent(bsn, "ggz", "reintegration", ["care.involvement"])
    ggz_view = world.disclose("ggz-leiden", bsn, "reintegration", ["care.involvement"]).json()
    ggz_pseudonym = ggz_view["subject"]
    headers = world.partner_headers("uwv-leiden")
    for guess in (ggz_pseudonym, secrets.token_hex(32), "0" * 64):
        response = world.client.post(
            "/v1/disclosures",
            json={
                "subject": {"pseudonym": guess},
                "purpose": "reintegration",
                "categories": ["care.involvement"],
            },
            headers=headers,
        )
        assert response.status_code == 200
        assert response.json()["disclosed"] == []
        assert response.json()["subject"] is None

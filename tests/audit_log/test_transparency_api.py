"""Checkpoints and proofs fetched over the API verify with a separate RFC 9162 verifier
(tests/audit/rfc9162_verifier.py, written from docs/audit-format.md alone)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audit.proofs import InclusionBundle, check_inclusion, from_tlog_proof
from gateway.audit_log.checkpointer import sign_if_due
from gateway.settings import Settings
from tests.audit.rfc9162_verifier import (
    entry_leaf,
    read_checkpoint,
    rfc9162_consistency,
    rfc9162_inclusion,
)
from tests.disclosures.world import NOOR, SAM, World, running_world
from tests.support import new_partner, register

# Checkpoint after every second entry, so the log has several tree heads to prove between.
FREQUENT = {"audit_checkpoint_every_entries": 2, "audit_checkpoint_interval_seconds": 0}


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with running_world(settings.model_copy(update=FREQUENT)) as running:
        # The operator's officer, who oversees the whole log; and one organisation's officer.
        officer = new_partner("officer-leiden", "gemeente", roles=("regional-privacy-officer",))
        own = new_partner("privacy-ggz", "ggz", roles=("privacy-officer",))
        for partner in (officer, own):
            register(running.runtime, partner)
            running.partners[partner.party_id] = partner
        yield running


def _story(world: World) -> None:
    world.contribute(SAM, "care.involvement")
    world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    world.disclose("gemeente-leiden", SAM, "reintegration", ["care.involvement"])
    world.consent(NOOR, "ggz", "reintegration", ["income.benefit"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])


def test_an_inclusion_proof_and_its_checkpoint_verify_with_a_separate_verifier(
    world: World,
) -> None:
    _story(world)
    client = world.client
    jwks = client.get("/v1/audit/keys").json()
    origin = client.get("/v1/audit/log").json()["origin"]
    items = client.get("/v1/me/access-log", headers=world.issuer.headers(SAM)).json()["items"]
    disclosed = next(item for item in items if item["action"] == "disclose")
    response = client.get(disclosed["proof"], headers=world.issuer.headers(SAM))
    assert response.status_code == 200, response.text
    bundle = response.json()
    size, root = read_checkpoint(bundle["checkpoint"], jwks, origin)
    assert size == bundle["tree_size"] >= disclosed["seq"] == bundle["index"] + 1
    path = [bytes.fromhex(node) for node in bundle["inclusion_path"]]
    assert rfc9162_inclusion(bundle["index"], size, entry_leaf(bundle["entry"]), path, root)
    assert not rfc9162_inclusion(
        bundle["index"], size, entry_leaf({"entry_hash": "00" * 32}), path, root
    )
    assert check_inclusion(InclusionBundle.model_validate(bundle), jwks, origin=origin).ok


def test_a_consistency_proof_between_two_checkpoints_verifies(world: World) -> None:
    _story(world)
    client = world.client
    jwks = client.get("/v1/audit/keys").json()
    origin = client.get("/v1/audit/log").json()["origin"]
    kept = client.get("/v1/audit/checkpoint").text  # what an auditor kept yesterday
    old_size, old_root = read_checkpoint(kept, jwks, origin)
    world.disclose("gemeente-leiden", SAM, "reintegration", ["care.involvement"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    latest = client.get("/v1/audit/checkpoints/latest").json()
    assert latest["version"] == 2 and latest["seq"] > old_size
    response = client.get(f"/v1/audit/proofs/consistency?from={old_size}&to={latest['seq']}")
    assert response.status_code == 200, response.text
    bundle = response.json()
    new_size, new_root = read_checkpoint(bundle["new_checkpoint"], jwks, origin)
    assert bundle["old_checkpoint"] == kept
    path = [bytes.fromhex(node) for node in bundle["proof"]]
    assert rfc9162_consistency(old_size, new_size, old_root, new_root, path)
    assert not rfc9162_consistency(old_size, new_size, new_root, new_root, path)


def test_the_checkpoint_is_published_as_c2sp_text_with_the_log_keys(world: World) -> None:
    _story(world)
    note = world.client.get("/v1/audit/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    log = world.client.get("/v1/audit/log").json()
    assert note.text.startswith(log["origin"] + "\n")
    assert log["vkeys"][0].startswith(log["origin"] + "+")
    by_size = world.client.get(f"/v1/audit/checkpoints/{note.text.split(chr(10))[1]}").json()
    assert by_size["note"] == note.text and by_size["origin"] == log["origin"]


def test_a_participant_gets_proofs_of_their_own_entries_only(world: World) -> None:
    _story(world)
    noor = world.client.get("/v1/me/access-log", headers=world.issuer.headers(NOOR)).json()
    own = noor["items"][0]["seq"]
    sams = world.client.get("/v1/me/access-log", headers=world.issuer.headers(SAM)).json()
    other = sams["items"][0]["seq"]
    headers = world.issuer.headers(NOOR)
    assert world.client.get(f"/v1/me/access-log/{own}/proof", headers=headers).status_code == 200
    refused = world.client.get(f"/v1/me/access-log/{other}/proof", headers=headers)
    missing = world.client.get("/v1/me/access-log/999999/proof", headers=headers)
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["detail"].replace(str(other), "N") == missing.json()["detail"].replace(
        "999999", "N"
    )
    assert world.client.get(f"/v1/me/access-log/{own}/proof").status_code == 401


def test_a_proof_waits_for_the_checkpoint_that_covers_the_entry(settings: Settings) -> None:
    rare = {"audit_checkpoint_every_entries": 1000, "audit_checkpoint_interval_seconds": 0}
    with running_world(settings.model_copy(update=rare)) as world:
        world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
        seq = world.client.get("/v1/me/access-log", headers=world.issuer.headers(SAM)).json()[
            "items"
        ][0]["seq"]
        early = world.client.get(
            f"/v1/me/access-log/{seq}/proof", headers=world.issuer.headers(SAM)
        )
        assert early.status_code == 409
        assert "signed checkpoint" in early.json()["detail"]
        world.clock.advance(world.runtime.settings.audit_checkpoint_every_seconds + 1)
        assert sign_if_due(world.runtime.sessions, world.runtime.trail) is not None
        later = world.client.get(
            f"/v1/me/access-log/{seq}/proof", headers=world.issuer.headers(SAM)
        )
        assert later.status_code == 200


def test_an_officer_gets_any_entry_proof_on_record_also_as_a_tlog_proof(world: World) -> None:
    _story(world)
    headers = world.partner_headers("officer-leiden")
    response = world.client.get("/v1/audit/entries/2/proof?format=tlog-proof", headers=headers)
    assert response.status_code == 200, response.text
    assert response.text.startswith("c2sp.org/tlog-proof@v1\nextra ")
    bundle = from_tlog_proof(response.text)
    jwks = world.client.get("/v1/audit/keys").json()
    assert check_inclusion(bundle, jwks).ok
    recorded = [entry for entry in world.audit_entries() if entry.action == "audit.query"]
    assert recorded and recorded[-1].reason is not None and "/proof" in recorded[-1].reason
    refused = world.client.get(
        "/v1/audit/entries/2/proof", headers=world.partner_headers("uwv-leiden")
    )
    assert refused.status_code == 403


def test_an_organisations_officer_gets_proofs_of_its_own_part_of_the_log_only(
    world: World,
) -> None:
    _story(world)
    headers = world.partner_headers("privacy-ggz")
    outside = world.client.get("/v1/audit/entries/2/proof", headers=headers)
    assert outside.status_code == 403
    assert "outside the part of the log" in outside.json()["detail"]
    refusals = [e for e in world.audit_entries() if e.actor_party == "privacy-ggz"]
    assert [e.outcome for e in refusals] == ["deny"]

"""Withdrawal reaches the recipients: a deletion notice to every party that received a category
the consent no longer covers, acknowledged once, seen by the participant and, when overdue, by
privacy officers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.core.db import transaction
from gateway.notices.flow import sweep
from gateway.settings import Settings
from plan.models import WebhookMessage
from tests.disclosures.world import NOOR, SAM, World, running_world
from tests.support import new_partner, register

WORKING_FORTNIGHT = 15 * 24 * 3600  # more than ten working days, whatever the weekday


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with running_world(settings.model_copy(update={"webhook_interval_seconds": 0})) as world:
        yield world


def _feed(world: World, party: str, after: int = 0) -> list[dict[str, Any]]:
    response = world.client.get(
        "/v1/deletion-notices", params={"after": after}, headers=world.partner_headers(party)
    )
    assert response.status_code == 200, response.text
    notices: list[dict[str, Any]] = response.json()["notices"]
    return notices


def _acknowledge(world: World, party: str, notice_id: str, **answer: Any) -> Any:
    return world.client.post(
        f"/v1/deletion-notices/{notice_id}/acknowledgement",
        json=answer or {"outcome": "deleted"},
        headers=world.partner_headers(party),
    )


def _revoke(world: World, bsn: str, consent_id: str) -> Any:
    response = world.client.post(
        f"/v1/me/consents/{consent_id}/revocation", json={}, headers=world.issuer.headers(bsn)
    )
    assert response.status_code == 200, response.text
    return response


def _erase(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHAKEL_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(settings.data_dir))
    erased = CliRunner().invoke(app, ["participant", "erase", "--bsn", SAM, "--yes"])
    assert erased.exit_code == 0, erased.output


def _narrow(world: World, bsn: str, consent_id: str, categories: list[str]) -> None:
    response = world.client.post(
        f"/v1/me/consents/{consent_id}/amendments",
        json={"categories": categories},
        headers=world.issuer.headers(bsn),
    )
    assert response.status_code == 201, response.text


def test_withdrawal_tells_uwv_which_acknowledges_and_the_participant_sees_it(world: World) -> None:
    world.contribute(SAM, "care.involvement")
    consent = world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    disclosed = world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"]).json()
    assert disclosed["disclosed"]

    _revoke(world, SAM, consent["id"])

    notices = _feed(world, "uwv-leiden")
    assert len(notices) == 1
    notice = notices[0]
    assert notice["reason"] == "withdrawn"
    assert notice["categories"] == ["care.involvement"]
    assert [d["decision_id"] for d in notice["disclosures"]] == [disclosed["decision_id"]]
    assert notice["subject"] == disclosed["subject"]  # UWV's own pseudonym, never a BSN
    assert "in_care" not in str(notice)
    assert _feed(world, "ggz-leiden") == [] and _feed(world, "gemeente-leiden") == []

    answered = _acknowledge(world, "uwv-leiden", notice["notice_id"])
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "deleted"

    log = world.client.get("/v1/me/access-log", headers=world.issuer.headers(SAM)).json()
    told = log["deletion_notices"]
    assert [(t["party"], t["status"], t["categories"]) for t in told] == [
        ("uwv-leiden", "deleted", ["care.involvement"])
    ]
    assert told[0]["acknowledged_at"] is not None
    actions = [entry.action for entry in world.audit_entries()]
    assert {"notice.send", "notice.deliver", "notice.acknowledge"} <= set(actions)


def test_a_party_that_never_received_the_category_is_not_told(world: World) -> None:
    world.contribute(SAM, "care.involvement")
    world.contribute(SAM, "income.benefit")
    consent = world.consent(SAM, "uwv", "reintegration", ["care.involvement", "income.benefit"])
    assert world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"]).json()[
        "disclosed"
    ]

    _narrow(world, SAM, consent["id"], ["care.involvement"])  # income.benefit never left
    assert _feed(world, "uwv-leiden") == []
    assert (
        world.client.get("/v1/me/deletion-notices", headers=world.issuer.headers(SAM)).json() == []
    )


def test_narrowing_tells_only_of_the_dropped_category(world: World) -> None:
    world.contribute(SAM, "care.involvement")
    world.contribute(SAM, "income.benefit")
    consent = world.consent(SAM, "uwv", "reintegration", ["care.involvement", "income.benefit"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement", "income.benefit"])

    _narrow(world, SAM, consent["id"], ["income.benefit"])

    notices = _feed(world, "uwv-leiden")
    assert [(n["reason"], n["categories"]) for n in notices] == [("narrowed", ["care.involvement"])]


def test_a_category_received_since_under_a_consent_in_force_is_not_noticed(world: World) -> None:
    world.contribute(SAM, "care.involvement")
    first = world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    world.consent(SAM, "uwv-leiden", "reintegration", ["care.involvement"])
    world.clock.advance(1)
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])

    _revoke(world, SAM, first["id"])

    assert _feed(world, "uwv-leiden") == []


def test_erasure_tells_every_recipient(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.contribute(SAM, "care.involvement")
    world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    world.consent(SAM, "gemeente", "reintegration", ["care.involvement"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    world.disclose("gemeente-leiden", SAM, "reintegration", ["care.involvement"])

    _erase(settings, monkeypatch)

    for party in ("uwv-leiden", "gemeente-leiden"):
        notices = _feed(world, party)
        assert [(n["reason"], n["categories"]) for n in notices] == [
            ("erased", ["care.involvement"])
        ]
    assert _feed(world, "ggz-leiden") == []


def test_acknowledging_another_partys_notice_twice_or_superseded_changes_nothing(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.contribute(SAM, "care.involvement")
    world.contribute(SAM, "income.benefit")
    consent = world.consent(SAM, "uwv", "reintegration", ["care.involvement", "income.benefit"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement", "income.benefit"])
    _narrow(world, SAM, consent["id"], ["income.benefit"])
    first = _feed(world, "uwv-leiden")[0]

    not_theirs = _acknowledge(world, "gemeente-leiden", first["notice_id"])
    assert not_theirs.status_code == 404
    assert not_theirs.headers["content-type"] == "application/problem+json"

    _erase(settings, monkeypatch)  # the erasure's notice covers the first one's categories
    newest = _feed(world, "uwv-leiden", after=first["cursor"])[0]
    superseded = _acknowledge(world, "uwv-leiden", first["notice_id"])
    assert superseded.status_code == 409
    assert superseded.json()["superseded_by"] == newest["notice_id"]

    assert _acknowledge(world, "uwv-leiden", newest["notice_id"]).status_code == 200
    twice = _acknowledge(world, "uwv-leiden", newest["notice_id"])
    assert twice.status_code == 409
    statuses = {n["notice_id"]: n["status"] for n in _feed(world, "uwv-leiden")}
    assert statuses == {first["notice_id"]: "superseded", newest["notice_id"]: "deleted"}


def test_keeping_data_needs_a_ground_the_catalogue_holds_for_the_domain(world: World) -> None:
    world.contribute(SAM, "care.involvement")
    consent = world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    _revoke(world, SAM, consent["id"])
    notice_id = _feed(world, "uwv-leiden")[0]["notice_id"]

    wrong = _acknowledge(
        world, "uwv-leiden", notice_id, outcome="kept", ground="ggz-medical-record"
    )
    assert wrong.status_code == 422
    assert "uwv-statutory-retention" in wrong.json()["valid_values"]
    missing = _acknowledge(world, "uwv-leiden", notice_id, outcome="kept")
    assert missing.status_code == 422

    kept = _acknowledge(
        world, "uwv-leiden", notice_id, outcome="kept", ground="uwv-statutory-retention"
    )
    assert kept.status_code == 200
    told = world.client.get("/v1/me/deletion-notices", headers=world.issuer.headers(SAM)).json()
    assert told[0]["status"] == "kept"
    assert "Wet SUWI" in told[0]["ground_description"]


def test_overdue_notices_are_shown_to_officers_within_their_scope(world: World) -> None:
    uwv_with_officer = new_partner(
        "uwv-delft", "uwv", roles=("reintegration-advisor", "privacy-officer"),
        purposes=("reintegration",),
    )  # fmt: skip
    other_officer = new_partner("gemeente-delft", "gemeente", roles=("privacy-officer",))
    regional = new_partner("regio-delft", "gemeente", roles=("regional-privacy-officer",))
    for partner in (uwv_with_officer, other_officer, regional):
        register(world.runtime, partner)
        world.partners[partner.party_id] = partner
    world.contribute(SAM, "care.involvement")
    consent = world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    world.disclose("uwv-delft", SAM, "reintegration", ["care.involvement"],
                   role="reintegration-advisor")  # fmt: skip
    _revoke(world, SAM, consent["id"])

    def overdue(party: str) -> list[str]:
        response = world.client.get(
            "/v1/deletion-notices/overdue", headers=world.partner_headers(party)
        )
        assert response.status_code == 200, response.text
        return [item["recipient_party"] for item in response.json()]

    assert overdue("uwv-delft") == []
    world.clock.advance(WORKING_FORTNIGHT)
    assert overdue("uwv-delft") == ["uwv-delft"]
    assert overdue("gemeente-delft") == []
    assert overdue("regio-delft") == ["uwv-delft"]
    refused = world.client.get(
        "/v1/deletion-notices/overdue", headers=world.partner_headers("uwv-leiden")
    )
    assert refused.status_code == 403


def test_an_expired_consent_is_noticed_by_the_sweep_once(world: World) -> None:
    world.contribute(NOOR, "care.involvement")
    until = world.clock().replace(microsecond=0).isoformat().replace("+00:00", "Z")
    response = world.client.post(
        "/v1/me/consents",
        json={"grantee": "uwv", "purpose": "reintegration", "categories": ["care.involvement"],
              "valid_until": until.replace(until[:4], str(int(until[:4]) + 1))},
        headers=world.issuer.headers(NOOR),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    world.disclose("uwv-leiden", NOOR, "reintegration", ["care.involvement"])

    sweep(world.runtime)
    assert _feed(world, "uwv-leiden") == []
    world.clock.advance(366 * 24 * 3600)
    assert [n.reason for n in sweep(world.runtime)] == ["expired"]
    assert sweep(world.runtime) == []
    assert [n["reason"] for n in _feed(world, "uwv-leiden")] == ["expired"]


def test_a_notice_goes_out_once_as_a_webhook_too(world: World) -> None:
    world.client.put(
        "/v1/webhooks/endpoint",
        json={"url": "https://uwv.example.nl/hooks"},
        headers=world.partner_headers("uwv-leiden"),
    )
    world.contribute(SAM, "care.involvement")
    consent = world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    _revoke(world, SAM, consent["id"])
    _revoke_again = world.client.post(
        f"/v1/me/consents/{consent['id']}/revocation", json={}, headers=world.issuer.headers(SAM)
    )
    assert _revoke_again.status_code == 409
    with transaction(world.runtime.sessions) as session:
        messages = session.query(WebhookMessage).filter_by(event_type="deletion.requested").all()
    assert len(messages) == 1
    assert messages[0].payload["data"]["notice_id"] == _feed(world, "uwv-leiden")[0]["notice_id"]


def test_a_notice_that_cannot_be_written_undoes_the_withdrawal(world: World) -> None:
    world.contribute(SAM, "care.involvement")
    consent = world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    engine = world.runtime.sessions.kw["bind"]

    def broken(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO deletion_notices"):
            raise RuntimeError("disk full")

    event.listen(engine, "before_cursor_execute", broken)
    try:
        response = world.client.post(
            f"/v1/me/consents/{consent['id']}/revocation",
            json={},
            headers=world.issuer.headers(SAM),
        )
    finally:
        event.remove(engine, "before_cursor_execute", broken)
    assert response.status_code >= 500
    versions = world.client.get("/v1/me/consents", headers=world.issuer.headers(SAM)).json()
    assert [v["status"] for v in versions] == ["active"]
    assert _feed(world, "uwv-leiden") == []

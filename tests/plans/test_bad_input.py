"""What the plan and signal endpoints refuse, and how."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.settings import Settings
from tests.disclosures.world import NOOR, SAM, UNKNOWN, World
from tests.plans.helpers import (
    GEMEENTE,
    GGZ,
    UWV,
    add_action,
    coordinate,
    headers,
    plan_world,
    query_plan,
    signal,
)
from tests.support import SettableClock


def _stable(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k not in {"trace_id"}}


def _director(world: World, party: str, bsn: str, proposed: str | None = None) -> Any:
    body: dict[str, Any] = {"subject": {"bsn": bsn}}
    if proposed:
        body["party"] = proposed
    return world.client.put("/v1/plans/director", json=body, headers=headers(world, party))


def test_editing_another_partys_action_is_forbidden(settings: Settings) -> None:
    with plan_world(settings) as world:
        signal(world, GGZ, SAM)
        signal(world, UWV, SAM)
        action = add_action(world, GGZ, SAM, "IPS job coaching").json()
        response = world.client.patch(
            f"/v1/plans/items/{action['item_id']}",
            json={"title": "Something else"},
            headers=headers(world, UWV),
        )
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert "belongs to ggz-leiden" in response.json()["detail"]


def test_assigning_a_director_without_consent_is_a_conflict_with_the_reason(
    settings: Settings,
) -> None:
    with plan_world(settings) as world:
        signal(world, GEMEENTE, SAM)
        response = _director(world, GEMEENTE, SAM)
        assert response.status_code == 409
        assert response.json()["reason"] == "director.consent_missing"
        assert "case-coordination" in response.json()["detail"]
        mine = world.client.get("/v1/me/plan", headers=world.issuer.headers(SAM)).json()
        assert mine["director"] is None


def test_a_participant_chooses_the_director_and_the_disclosure_policy_sees_it(
    settings: Settings,
) -> None:
    with plan_world(settings) as world:
        signal(world, UWV, SAM)
        before = world.disclose(UWV, SAM, "case-coordination", ["plan.goals"]).json()
        assert [w["code"] for w in before["withheld"]] == ["consent.missing"]
        chosen = world.client.put(
            "/v1/me/director", json={"party": UWV}, headers=world.issuer.headers(SAM)
        )
        assert chosen.status_code == 200, chosen.text
        assert chosen.json()["basis"] == "participant"
        # The disclosure flow now passes the director into the policy input: the overview holds.
        after = world.disclose(UWV, SAM, "case-coordination", ["plan.goals"]).json()
        assert [w["code"] for w in after["withheld"]] == ["data.none"]  # allowed, nothing stored
        history = world.client.get("/v1/me/director/history", headers=world.issuer.headers(SAM))
        assert [(a["kind"], a["party"]) for a in history.json()] == [("assigned", UWV)]


def test_revoking_the_coordination_consent_ends_a_partner_assigned_directorship(
    settings: Settings,
) -> None:
    with plan_world(settings) as world:
        signal(world, GEMEENTE, SAM)
        [consent] = coordinate(world, SAM, [GEMEENTE]).json()["consents"]
        assert _director(world, GEMEENTE, SAM).status_code == 200
        assert query_plan(world, GEMEENTE, SAM, "case-coordination").json()["involved"]
        world.client.post(
            f"/v1/me/consents/{consent['id']}/revocation", json={},
            headers=world.issuer.headers(SAM),
        )  # fmt: skip
        mine = world.client.get("/v1/me/plan", headers=world.issuer.headers(SAM)).json()
        assert mine["director"] is None
        gone = query_plan(world, GEMEENTE, SAM, "case-coordination").json()
        assert gone["goals"] is None and gone["involved"] is None


def test_only_the_director_hands_over(settings: Settings) -> None:
    with plan_world(settings) as world:
        for party in (GGZ, UWV, GEMEENTE):
            signal(world, party, SAM)
        coordinate(world, SAM)
        assert _director(world, GEMEENTE, SAM).status_code == 200
        assert _director(world, UWV, SAM).status_code == 403
        handed = _director(world, GEMEENTE, SAM, proposed=GGZ)
        assert handed.status_code == 200 and handed.json()["party"] == GGZ
        history = world.client.get("/v1/me/director/history", headers=world.issuer.headers(SAM))
        assert [(a["kind"], a["party"], a["previous_party"]) for a in history.json()] == [
            ("assigned", GEMEENTE, None),
            ("handed-over", GGZ, GEMEENTE),
        ]


def test_unknown_and_unreachable_participants_get_the_same_404(settings: Settings) -> None:
    with plan_world(settings) as world:
        signal(world, GGZ, NOOR)  # NOOR is enrolled; UWV never signalled about her
        unknown = add_action(world, UWV, UNKNOWN, "Intake")
        unreachable = add_action(world, UWV, NOOR, "Intake")
        assert unknown.status_code == unreachable.status_code == 404
        assert _stable(unknown.json()) == _stable(unreachable.json())
        missing = world.client.post(
            "/v1/signals",
            json={"subject": {"pseudonym": "ab" * 32}, "purpose": "reintegration", "contact": "x"},
            headers=headers(world, UWV),
        )
        assert missing.status_code == 404
        assert missing.json()["detail"] == unknown.json()["detail"]


def test_a_signal_by_a_valid_bsn_enrols_and_a_repeat_keeps_the_first(settings: Settings) -> None:
    with plan_world(settings) as world:
        first = signal(world, UWV, UNKNOWN)
        assert first.status_code == 201
        again = signal(world, UWV, UNKNOWN)
        assert again.status_code == 200
        assert again.json()["signal_id"] == first.json()["signal_id"]
        assert again.json()["created"] is False
        bad = world.client.post(
            "/v1/signals",
            json={"subject": {"bsn": "123456789"}, "purpose": "reintegration", "contact": "x"},
            headers=headers(world, UWV),
        )
        assert bad.status_code == 422


def test_a_stale_version_is_a_conflict(settings: Settings) -> None:
    with plan_world(settings) as world:
        signal(world, UWV, SAM)
        action = add_action(world, UWV, SAM, "Intake").json()
        url = f"/v1/plans/items/{action['item_id']}"
        first = world.client.patch(
            url, json={"status": "done", "base_version": 1}, headers=headers(world, UWV)
        )
        assert first.status_code == 200
        stale = world.client.patch(
            url, json={"status": "cancelled", "base_version": 1}, headers=headers(world, UWV)
        )
        assert stale.status_code == 409
        assert stale.json()["type"].endswith("/plan-version-conflict")
        bad_status = world.client.patch(
            url, json={"status": "achieved"}, headers=headers(world, UWV)
        )
        assert bad_status.status_code == 422


def test_a_party_without_the_purpose_in_its_token_cannot_signal_for_it(settings: Settings) -> None:
    with plan_world(settings) as world:
        token = world.partner_headers(UWV, scope="reintegration")
        response = world.client.post(
            "/v1/signals",
            json={"subject": {"bsn": SAM}, "purpose": "case-coordination", "contact": "x"},
            headers=token,
        )
        assert response.status_code == 403


def test_the_plan_package_imports_no_other_package_of_schakel() -> None:
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for path in (root / "plan").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert node.module.split(".")[0] not in {"gateway", "consent", "audit", "adapters"}
            if isinstance(node, ast.Import):
                assert all(
                    a.name.split(".")[0] not in {"gateway", "consent", "audit", "adapters"}
                    for a in node.names
                )


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://ehr.ggz-leiden.example/schakel/hooks", True),
        ("http://127.0.0.1:9000/hooks", True),
        ("http://ehr.ggz-leiden.example/hooks", False),
        ("https://10.1.2.3/hooks", False),
        ("https://192.168.10.20/hooks", False),
        ("https://169.254.169.254/latest/meta-data", False),
        ("https://[fd00::1]/hooks", False),
        ("https://hooks:secret@hooks.example.org/schakel", False),
        ("https://hooks@hooks.example.org/schakel", False),
    ],
)
def test_webhook_receivers_need_https_and_a_public_address(
    tmp_path: Path, url: str, accepted: bool
) -> None:
    sqlite = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'schakel.db'}",
        public_url="http://testserver",
    )
    with plan_world(sqlite) as world:
        response = world.client.put(
            "/v1/webhooks/endpoint", json={"url": url}, headers=headers(world, GGZ)
        )
    assert (response.status_code in {200, 201}) is accepted, response.text
    if not accepted:
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"


def test_a_coordination_consent_given_later_matches_the_signals_at_once(settings: Settings) -> None:
    with plan_world(settings) as world:
        assert signal(world, GGZ, SAM).status_code in {200, 201}
        assert signal(world, UWV, SAM).status_code in {200, 201}
        assert (
            world.client.get("/v1/signals/feed", headers=headers(world, UWV)).json()[
                "notifications"
            ]
            == []
        )
        for party in (GGZ, UWV):
            world.consent(SAM, party, "case-coordination", ["care.involvement"])
        told = world.client.get("/v1/signals/feed", headers=headers(world, UWV)).json()[
            "notifications"
        ]
        assert [item["party"] for item in told] == [GGZ]


def test_delivery_refuses_receivers_that_resolve_to_internal_addresses() -> None:
    from gateway.signals.webhooks import refused_target

    assert refused_target("http://127.0.0.1:9000/hooks") is None
    assert refused_target("https://10.0.0.7/hooks") is not None
    assert refused_target("https://name-that-does-not-resolve.invalid/hooks") is not None


def test_a_plan_query_outside_the_tokens_purposes_is_refused_and_audited(
    settings: Settings,
) -> None:
    with plan_world(settings) as world:
        signal(world, UWV, SAM)
        token = world.partner_headers(UWV, scope="reintegration")
        response = world.client.post(
            "/v1/plans/query",
            json={"subject": {"bsn": SAM}, "purpose": "case-coordination"},
            headers=token,
        )
        assert response.status_code == 403
        last = world.audit_entries()[-1]
        assert (last.action, last.outcome, last.actor_party) == ("deny", "deny", UWV)


def test_free_text_that_names_a_participant_by_bsn_is_refused_with_its_pointer(
    settings: Settings,
) -> None:
    """Partners read a signal's contact and a plan item's text: no BSN may ride along in them."""
    with plan_world(settings) as world:
        body = {"subject": {"bsn": SAM}, "purpose": "reintegration", "contact": f"bsn {NOOR}"}
        refused = world.client.post("/v1/signals", json=body, headers=headers(world, GGZ))
        assert refused.status_code == 422, refused.text
        assert [error["pointer"] for error in refused.json()["errors"]] == ["#/contact"]
        assert NOOR not in refused.text
        signal(world, GGZ, SAM)
        grouped = " ".join((NOOR[:3], NOOR[3:6], NOOR[6:]))
        action = add_action(world, GGZ, SAM, f"Call the client ({grouped})")
        assert action.status_code == 422, action.text
        assert [error["pointer"] for error in action.json()["errors"]] == ["#/title"]
        feed = world.client.get("/v1/signals/feed", headers=headers(world, UWV)).json()
        assert all(NOOR not in str(note) for note in feed["notifications"])


def test_a_coordination_consent_is_shown_in_force_when_the_clock_moves_on(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer shows the consent as it stands after the grant, not before (pending)."""
    with plan_world(settings) as world:
        signal(world, GEMEENTE, SAM)

        def ticking(clock: SettableClock) -> datetime:
            clock.advance(0.001)
            return clock.now

        monkeypatch.setattr(SettableClock, "__call__", ticking)
        [consent] = coordinate(world, SAM, [GEMEENTE]).json()["consents"]
        assert consent["status"] == "active"

"""GGZ, UWV and the municipality around one participant: from the first signal to a director-led plan."""

from __future__ import annotations

from standardwebhooks import Webhook

from gateway.settings import Settings
from tests.disclosures.world import SAM
from tests.plans.helpers import (
    CONTACT,
    GEMEENTE,
    GGZ,
    UWV,
    actions_of,
    add_action,
    coordinate,
    deliver,
    headers,
    plan_world,
    query_plan,
    register_webhook,
    signal,
)
from tests.signals.receiver import running_receiver


def test_three_parties_from_first_signal_to_a_director_led_plan(settings: Settings) -> None:
    with plan_world(settings) as world, running_receiver() as ggz_receiver:
        client = world.client
        secret = register_webhook(world, GGZ, ggz_receiver.url)

        # 1. Each party signals its involvement. Nobody is told anything yet: no coordination consent.
        for party in (GGZ, UWV, GEMEENTE):
            response = signal(world, party, SAM)
            assert response.status_code == 201, response.text
            assert set(response.json()) == {
                "signal_id", "subject", "purpose", "contact", "signalled_at", "created", "ended_at",
            }  # fmt: skip
        assert client.get("/v1/signals/feed", headers=headers(world, UWV)).json() == {
            "notifications": [],
            "next_cursor": 0,
        }
        assert deliver(world) == []

        # 2. The participant consents to coordination among the three: each learns of the others.
        response = coordinate(world, SAM)
        assert response.status_code == 201, response.text
        assert response.json()["notified"] == 6
        assert {c["grantee"] for c in response.json()["consents"]} == {GGZ, UWV, GEMEENTE}

        # UWV polls its feed: who else is involved, for what, and how to reach them; no content.
        page = client.get("/v1/signals/feed", headers=headers(world, UWV)).json()
        told = {(n["party"], n["contact"]) for n in page["notifications"]}
        assert told == {(GGZ, CONTACT[GGZ]), (GEMEENTE, CONTACT[GEMEENTE])}
        assert set(page["notifications"][0]) == {
            "notification_id", "event", "subject", "party", "domain", "purpose", "contact",
            "signalled_at", "ended_at", "notified_at",
        }  # fmt: skip
        later = client.get(
            f"/v1/signals/feed?after={page['next_cursor']}", headers=headers(world, UWV)
        )
        assert later.json()["notifications"] == []

        # GGZ receives the same by signed webhooks, verifiable with off-the-shelf code.
        outcomes = deliver(world)
        assert [o.status for o in outcomes] == ["delivered", "delivered"]
        payloads = [Webhook(secret).verify(r.body, r.headers) for r in ggz_receiver.received]
        assert {p["data"]["party"] for p in payloads} == {UWV, GEMEENTE}
        assert {p["type"] for p in payloads} == {"involvement.signalled"}

        # 3. The municipality becomes director on the participant's coordination consent.
        response = client.put(
            "/v1/plans/director", json={"subject": {"bsn": SAM}}, headers=headers(world, GEMEENTE)
        )
        assert response.status_code == 200, response.text
        assert response.json()["party"] == GEMEENTE
        assert response.json()["basis"] == "consent"

        # 4. The director sets a goal; each party adds its own action towards it.
        response = client.post(
            "/v1/plans/goals",
            json={"subject": {"bsn": SAM}, "title": "Paid work, 16 hours a week, by summer"},
            headers=headers(world, GEMEENTE),
        )
        assert response.status_code == 201, response.text
        goal_id = response.json()["item_id"]
        ggz_action = add_action(world, GGZ, SAM, "IPS job coaching", goal_id=goal_id)
        uwv_action = add_action(
            world, UWV, SAM, "Wage-dispensation check", goal_id=goal_id, due_date="2027-01-31"
        )
        assert ggz_action.status_code == uwv_action.status_code == 201

        # UWV may change its own action (a new version), not GGZ's.
        refused = client.patch(
            f"/v1/plans/items/{ggz_action.json()['item_id']}",
            json={"status": "done"},
            headers=headers(world, UWV),
        )
        assert refused.status_code == 403
        changed = client.patch(
            f"/v1/plans/items/{uwv_action.json()['item_id']}",
            json={"status": "in-progress", "base_version": 1},
            headers=headers(world, UWV),
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["version"] == 2
        assert changed.json()["supersedes"] == uwv_action.json()["version_id"]

        # 5. The director sees the whole plan and who is involved (case-coordination).
        overview = query_plan(world, GEMEENTE, SAM, "case-coordination").json()
        assert [g["title"] for g in overview["goals"]] == ["Paid work, 16 hours a week, by summer"]
        assert {(a["owner_party"], a["status"]) for a in overview["actions"]} == {
            (GGZ, "planned"),
            (UWV, "in-progress"),
        }
        assert {i["party"] for i in overview["involved"]} == {GGZ, UWV, GEMEENTE}
        assert overview["director"]["party"] == GEMEENTE

        # UWV reads the plan on its coordination consent, but not who is involved.
        seen = query_plan(world, UWV, SAM, "case-coordination").json()
        assert len(seen["actions"]) == 2
        assert seen["involved"] is None
        # For re-integration it has no consent for the plan: withheld, with the reason.
        withheld = query_plan(world, UWV, SAM, "reintegration").json()
        assert withheld["goals"] is None and withheld["actions"] is None
        assert {w["code"] for w in withheld["withheld"]} == {"consent.missing"}

        # 6. The participant sees their own plan, with every version of an action.
        mine = client.get("/v1/me/plan", headers=world.issuer.headers(SAM)).json()
        assert mine["director"]["party"] == GEMEENTE
        assert len(mine["goals"]) == 1 and len(mine["actions"]) == 2
        history = client.get(
            f"/v1/me/plan/items/{uwv_action.json()['item_id']}/history",
            headers=world.issuer.headers(SAM),
        ).json()
        assert [(v["version"], v["status"]) for v in history] == [
            (1, "planned"),
            (2, "in-progress"),
        ]

        # Everything is in the audit log, under the same paths as disclosures.
        assert len(actions_of(world, "signal.submit")) == 3
        assert len(actions_of(world, "signal.notify")) == 6
        assert len(actions_of(world, "director.assign")) == 1
        assert len(actions_of(world, "plan.update")) == 4
        assert len(actions_of(world, "disclose")) == 2
        assert len(actions_of(world, "deny")) == 1

"""``schakel demo story``: the whole exchange against a running gateway, step by step.

A GGZ provider, UWV and the municipality contribute; the participant consents; UWV asks and gets
exactly what was consented; the participant narrows the consent; UWV is asked to delete the
category it received and confirms; UWV asks again and that category is withheld; the
participant's access log shows all of it. Everything goes over HTTP, as a partner
system and a participant's browser would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from gateway.auth.partner_keys import read_private_key, sign_client_assertion
from gateway.demo.seed import DEMO_PARTICIPANTS
from gateway.deps import ACTING_USER_HEADER

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CONSENTED = ["care.involvement", "care.work_readiness", "income.benefit"]
ASKED = ["care.involvement", "care.work_readiness", "income.benefit", "work.capacity"]


class StoryFailed(Exception):
    """A step did not give what the story expects; the message says which."""


class Story:
    def __init__(self, client: httpx.Client, keys_folder: Path, say: Callable[[str], None]) -> None:
        self.client = client
        self.keys_folder = keys_folder
        self.say = say
        # RFC 8414 metadata names the token endpoint, which is the audience of our assertions.
        metadata = client.get("/.well-known/oauth-authorization-server")
        self.token_endpoint = str(expect(metadata, 200, "server metadata")["token_endpoint"])

    def partner_headers(self, party: str) -> dict[str, str]:
        assertion = sign_client_assertion(
            key=read_private_key(self.keys_folder / party / "private.jwk.json"),
            client_id=party,
            audience=self.token_endpoint,
            now=datetime.now(UTC),
            lifetime=timedelta(seconds=60),
        )
        response = self.client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
        )
        token = expect(response, 200, f"token for {party}")["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def contribute(self, party: str, fmt: str, payload: str, content_type: str) -> None:
        body = resources.files("gateway.demo.payloads").joinpath(payload).read_bytes()
        response = self.client.post(
            f"/v1/adapters/{fmt}/contributions",
            content=body,
            headers={**self.partner_headers(party), "Content-Type": content_type},
        )
        result = expect(response, 201, f"{party} contributes")
        accepted = sorted({item["category"] for item in result.get("accepted", [])})
        dropped = [
            f"{_dropped_name(item)} ({item['reason']}) at {item['location']}"
            for item in result.get("dropped", [])
        ]
        self.say(f"   accepted: {', '.join(accepted) or '-'}")
        if dropped:
            self.say(f"   dropped:  {'; '.join(dropped)}")

    def disclose(self) -> dict[str, Any]:
        response = self.client.post(
            "/v1/disclosures",
            json={
                "subject": {"bsn": DEMO_PARTICIPANTS[0].bsn},
                "purpose": "reintegration",
                "categories": ASKED,
            },
            headers={**self.partner_headers("uwv-leiden"), ACTING_USER_HEADER: "uwv/ad-jansen"},
        )
        view = expect(response, 200, "UWV asks")
        for item in view["disclosed"]:
            self.say(
                f"   disclosed {item['category']}: {json.dumps(item['fields'], ensure_ascii=False)}"
            )
        for item in view["withheld"]:
            self.say(f"   withheld  {item['category']}: {item['code']}")
        return view

    def run(self) -> None:
        sam = DEMO_PARTICIPANTS[0]
        self.say("1. GGZ Leiden contributes care involvement and IPS status (FHIR R4 Bundle)")
        self.contribute("ggz-leiden", "ggz-fhir", "ggz-bundle.json", "application/fhir+json")
        self.say("2. UWV Leiden contributes the work-capacity outcome (UWV XML message)")
        self.contribute("uwv-leiden", "uwv-xml", "uwv-message.xml", "application/xml")
        self.say("3. Gemeente Leiden contributes the Participatiewet benefit (ZGW zaken)")
        self.contribute(
            "gemeente-leiden", "gemeente-zgw", "gemeente-zaken.json", "application/json"
        )

        self.say(
            f"4. {sam.name} logs in and lets UWV receive {', '.join(CONSENTED)} for re-integration"
        )
        login = expect(self.client.post("/v1/demo/login", json={"bsn": sam.bsn}), 200, "demo login")
        participant = {"Authorization": f"Bearer {login['access_token']}"}
        consent = expect(
            self.client.post(
                "/v1/me/consents",
                json={"grantee": "uwv", "purpose": "reintegration", "categories": CONSENTED},
                headers=participant,
            ),
            201,
            "consent",
        )

        self.say("5. UWV asks for re-integration data")
        first = self.disclose()
        if sorted({item["category"] for item in first["disclosed"]}) != CONSENTED:
            raise StoryFailed("UWV did not get exactly what was consented")

        self.say(f"6. {sam.name} withdraws care.work_readiness from the consent")
        expect(
            self.client.post(
                f"/v1/me/consents/{consent['id']}/amendments",
                json={"categories": ["care.involvement", "income.benefit"]},
                headers=participant,
            ),
            201,
            "narrowing the consent",
        )

        self.say(
            "7. UWV is asked to delete what it received under the withdrawn part, and confirms"
        )
        uwv = self.partner_headers("uwv-leiden")
        feed = expect(self.client.get("/v1/deletion-notices", headers=uwv), 200, "UWV's notices")
        notice = next(
            (n for n in feed["notices"] if "care.work_readiness" in n["categories"]), None
        )
        if notice is None or first["decision_id"] not in {
            d["decision_id"] for d in notice["disclosures"]
        }:
            raise StoryFailed("UWV was not told to delete care.work_readiness")
        self.say(
            f"   notice {notice['notice_id']}: delete {', '.join(notice['categories'])} "
            f"received in decision {first['decision_id']} ({notice['reason']})"
        )
        expect(
            self.client.post(
                f"/v1/deletion-notices/{notice['notice_id']}/acknowledgement",
                json={"outcome": "deleted"},
                headers=uwv,
            ),
            200,
            "UWV confirms the deletion",
        )
        self.say("   UWV confirms: deleted")

        self.say("8. UWV asks again: the withdrawn category is withheld at once")
        second = self.disclose()
        if "care.work_readiness" in {item["category"] for item in second["disclosed"]}:
            raise StoryFailed("a withdrawn category was disclosed")

        self.say(f"9. {sam.name} reads who saw what, and who was asked to delete it")
        log = expect(self.client.get("/v1/me/access-log", headers=participant), 200, "access log")
        for item in log["items"]:
            self.say(f"   {item['at']}  {item['summary']}")
        for told in log["deletion_notices"]:
            answer = told["status"] + (f" ({told['ground']})" if told["ground"] else "")
            self.say(
                f"   {told['organisation']} was asked to delete {', '.join(told['categories'])}: "
                f"{answer} at {told['acknowledged_at']}"
            )
        if not any(t["status"] == "deleted" for t in log["deletion_notices"]):
            raise StoryFailed("the access log does not show UWV's confirmation")
        self.say("Done. Check the tamper-evident audit trail with `schakel audit verify`.")


def expect(response: httpx.Response, status: int, step: str) -> dict[str, Any]:
    if response.status_code != status:
        raise StoryFailed(f"{step}: HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return body


def _dropped_name(item: dict[str, Any]) -> str:
    """``income.benefit.iban``: the category and the field, or as much of it as is known."""
    parts = [part for part in (item.get("category"), item.get("field")) if part]
    return ".".join(parts) or str(item["location"])

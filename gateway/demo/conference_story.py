"""``schakel demo conference``: one case conference against a running gateway, step by step.

DZB Leiden chairs a conference about three participants, inviting GGZ, UWV, an employer and the
experts by experience. Sam says yes, Noor says no, Daan does not answer and is discussed
anonymously. The parties read the cases inside the window (the employer gets no care data; a
party not invited gets nothing), the chair records the outcomes and the agreed actions land in
Sam's plan; once the window has closed by itself, the same read is refused; then the obstacle
register counts what was found. Everything goes over HTTP, as partner systems and the
participants' browsers would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from gateway.demo.seed import DEMO_PARTICIPANTS
from gateway.demo.story import Story, StoryFailed, expect
from gateway.deps import ACTING_USER_HEADER

CHAIR, GGZ, UWV = "dzb-leiden", "ggz-leiden", "uwv-leiden"
EMPLOYER, PEERS, SHELTER = "werkgever-leiden", "ervaring-leiden", "opvang-leiden"
ASKED = [
    "care.involvement", "care.work_readiness", "work.capacity", "work.reintegration",
    "plan.goals", "plan.actions", "plan.involved",
]  # fmt: skip
Outcome = tuple[str, list[tuple[str, str]], list[tuple[str, str]]]
OUTCOMES: tuple[Outcome, ...] = (
    (
        "Start with 12 hours a week at the bakery with a job coach; settle the debts first.",
        [("debts", "gemeente"), ("stigma-at-work", "employer")],
        [("Intake debt assistance", UWV), ("Workplace visit with the job coach", EMPLOYER)],
    ),
    ("Housing first; discuss again next quarter.", [("housing", "gemeente")], []),
    (
        "Settle who pays for the job coach before the placement starts.",
        [("funding-split", "gemeente"), ("income-benefits", "uwv")],
        [],
    ),
)


class ConferenceStory:
    """The conference, told step by step; ``window_seconds`` is how long its views stay open."""

    def __init__(
        self,
        client: httpx.Client,
        story: Story,
        say: Callable[[str], None],
        *,
        window_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.story = story
        self.say = say
        self.window_seconds = window_seconds
        self.sleep = sleep

    def run(self) -> None:
        sam, noor, daan = DEMO_PARTICIPANTS
        self.say("1. GGZ Leiden and UWV Leiden contribute what they know about Sam")
        self.story.contribute(GGZ, "ggz-fhir", "ggz-bundle.json", "application/fhir+json")
        self.story.contribute(UWV, "uwv-xml", "uwv-message.xml", "application/xml")
        self.say(f"2. DZB Leiden, the chair, signals its involvement with {sam.name}, "
                 f"{noor.name} and {daan.name}")  # fmt: skip
        chair = self.story.partner_headers(CHAIR)
        for person in DEMO_PARTICIPANTS:
            expect(self.client.post("/v1/signals", headers=chair, json={
                "subject": {"bsn": person.bsn}, "purpose": "reintegration",
                "contact": "DZB Leiden, trajectory coach M. Visser, 071-0000000",
            }), 201, "the chair signals involvement")  # fmt: skip
        conference = self._schedule(chair)
        cases = [case["case_id"] for case in conference["cases"]]
        conference_id = conference["id"]

        self.say(f"4. {sam.name} logs in, sees who comes and what each may see, and says yes")
        self._show_and_answer(sam.bsn, conference_id, "yes")
        self.say(f"5. {noor.name} says no: she is discussed without her name")
        self._show_and_answer(noor.bsn, conference_id, "no", show=False)
        self.say(f"6. {daan.name} does not answer: he is discussed anonymously")

        inside = self._views(conference_id, cases)
        self._outcomes(conference_id, cases, sam.bsn)
        self._after_the_window(conference, cases[0], inside)
        self._register()
        self.say(f"14. {sam.name} reads who saw what")
        login = self._login(sam.bsn)
        log = expect(self.client.get("/v1/me/access-log", headers=login), 200, "access log")
        for item in log["items"][-6:]:
            self.say(f"   {item['at']}  {item['summary']}")
        self.say("Done. Check the tamper-evident audit trail with `schakel audit verify`.")

    def _schedule(self, chair: dict[str, str]) -> dict[str, Any]:
        now = datetime.now(UTC)
        ends = now + timedelta(seconds=self.window_seconds)
        self.say(f"3. The chair schedules a case conference, open until {ends:%H:%M:%S} UTC, "
                 f"inviting {GGZ}, {UWV}, {EMPLOYER} and {PEERS}")  # fmt: skip
        conference = expect(self.client.post("/v1/conferences", headers=chair, json={
            "title": "Casuïstiekoverleg Holland Rijnland", "region": "holland-rijnland",
            "starts_at": (now - timedelta(seconds=1)).isoformat(), "ends_at": ends.isoformat(),
            "invited": [GGZ, UWV, EMPLOYER, PEERS], "categories": ASKED,
            "participants": [{"bsn": person.bsn} for person in DEMO_PARTICIPANTS],
        }), 201, "scheduling")  # fmt: skip
        numbers = ", ".join(f"case {case['number']}" for case in conference["cases"])
        self.say(f"   agenda: {numbers}; consent asked for {', '.join(ASKED)}")
        return conference

    def _login(self, bsn: str) -> dict[str, str]:
        login = expect(self.client.post("/v1/demo/login", json={"bsn": bsn}), 200, "demo login")
        return {"Authorization": f"Bearer {login['access_token']}"}

    def _show_and_answer(
        self, bsn: str, conference_id: str, given: str, *, show: bool = True
    ) -> None:
        headers = self._login(bsn)
        mine = self.client.get("/v1/me/conferences", headers=headers)
        if mine.status_code != 200:
            raise StoryFailed(f"my conferences: HTTP {mine.status_code}: {mine.text[:500]}")
        listed = next(c for c in mine.json() if c["conference_id"] == conference_id)
        for party in listed["parties"] if show else ():
            sees = ", ".join(party["categories"]) or "nothing"
            self.say(f"   {party['name']:<40} may see: {sees}")
        expect(self.client.post(f"/v1/me/conferences/{conference_id}/answer", headers=headers,
                                json={"answer": given}), 201, "answering")  # fmt: skip

    def _read(self, party: str, conference_id: str, case_id: str, **body: Any) -> httpx.Response:
        return self.client.post(
            f"/v1/conferences/{conference_id}/cases/{case_id}/view",
            json=body or None,
            headers={**self.story.partner_headers(party), ACTING_USER_HEADER: f"{party}/deelnemer-1"},
        )  # fmt: skip

    def _views(self, conference_id: str, cases: list[str]) -> dict[str, Any]:
        self.say("7. UWV Leiden reads case 1 inside the window")
        inside = expect(self._read(UWV, conference_id, cases[0]), 200, "UWV reads case 1")
        if inside["anonymous"]:
            raise StoryFailed("Sam said yes, yet case 1 was anonymous to UWV")
        self.say(f"   case 1 is {inside['subject'][:12]}… (UWV's pseudonym); disclosed "
                 f"{', '.join(sorted(i['category'] for i in inside['disclosed']))}")  # fmt: skip
        self.say("8. The employer reads case 1: no care data, whatever Sam consented to")
        employer = expect(self._read(EMPLOYER, conference_id, cases[0]), 200, "employer reads")
        for item in employer["withheld"]:
            if item["code"] == "category.care_data_barred":
                self.say(f"   withheld {item['category']}: {item['code']}")
        asked = self._read(EMPLOYER, conference_id, cases[0], categories=["care.involvement"])
        refused = _refused(asked, "the employer asks for care data by name")
        self.say(f"   asking for care.involvement by name: HTTP 403 {refused}")
        self.say("9. Cases 2 and 3 are discussed anonymously: no pseudonym, no data")
        for number, case_id in enumerate(cases[1:], start=2):
            view = expect(self._read(UWV, conference_id, case_id), 200, f"case {number}")
            if not view["anonymous"] or view["subject"] is not None:
                raise StoryFailed(f"case {number} was not anonymous")
            self.say(f"   case {number}: anonymous, withheld {len(view['withheld'])} categories")
        self.say(f"10. {SHELTER} was not invited: its read is refused")
        outsider = _refused(self._read(SHELTER, conference_id, cases[0]), "an uninvited read")
        self.say(f"   HTTP 403 {outsider}")
        return inside

    def _outcomes(self, conference_id: str, cases: list[str], bsn: str) -> None:
        self.say("11. The chair records the outcomes; the agreed actions go into Sam's plan")
        chair = self.story.partner_headers(CHAIR)
        for number, (case_id, (advice, obstacles, actions)) in enumerate(
            zip(cases, OUTCOMES, strict=True), start=1
        ):
            recorded = expect(self.client.post(
                f"/v1/conferences/{conference_id}/cases/{case_id}/outcomes", headers=chair,
                json={"advice": advice,
                      "obstacles": [{"code": c, "domain": d} for c, d in obstacles],
                      "actions": [{"title": t, "owner": o} for t, o in actions]},
            ), 201, f"outcome of case {number}")  # fmt: skip
            found = ", ".join(f"{c} ({d})" for c, d in obstacles)
            self.say(f"   case {number}: obstacles {found}; "
                     f"{len(recorded['actions'])} actions into the plan")  # fmt: skip
        plan = expect(self.client.get("/v1/me/plan", headers=self._login(bsn)), 200, "Sam's plan")
        for action in plan["actions"]:
            self.say(f"   Sam's plan: {action['title']} (owner {action['owner_party']})")

    def _after_the_window(self, conference: dict[str, Any], case_id: str, before: Any) -> None:
        ends = datetime.fromisoformat(conference["ends_at"])
        wait = max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.5
        self.say(f"12. No job runs; {wait:.0f} s later the window has ended, and the same read "
                 "by UWV is refused")  # fmt: skip
        self.sleep(wait)
        after = self._read(UWV, conference["id"], case_id)
        self.say(f"   HTTP {after.status_code} {_refused(after, 'the read after the window')}")

    def _register(self) -> None:
        self.say("13. The steering group counts the obstacles (counts below 10 suppressed)")
        view = expect(
            self.client.get("/v1/obstacle-register", params={"groupBy": "code"},
                            headers=self.story.partner_headers(UWV)),
            200, "the obstacle register",
        )  # fmt: skip
        for cell in view["cells"]:
            count = "suppressed" if cell["count"] is None else cell["count"]
            self.say(f"   {cell['values']['code']:<18} {count}")
        total = view["total"]["count"]
        self.say(f"   total              {'suppressed' if total is None else total}")


def _refused(response: httpx.Response, step: str) -> str:
    """The problem's reason code, if the answer is the expected 403; else the story stops."""
    if response.status_code != 403:
        raise StoryFailed(f"{step}: expected a refusal, got HTTP {response.status_code}")
    return str(response.json().get("reason"))

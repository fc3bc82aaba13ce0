"""The chair's conference pages under /chair: the conferences, and for each the invitations, the
consent status per participant (by case number and the chair's own pseudonym, never a BSN), an
answer given on paper, and the outcome of each case.

Every step goes through ``gateway.conferences`` as the API does, so rules and audit entries are
the same; an invited party sees the agenda without the forms. A chair logs in (demo only) with
the id of a party that holds a role that may chair a case conference; the session ends as an
officer's does (``gateway.web.party_sessions``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from conference.errors import ConferenceError
from gateway.auth.access_tokens import Caller
from gateway.conferences import answers, flow, outcome, scheduling
from gateway.conferences.schemas import CONFERENCE_PURPOSE, OutcomeRequest, RecordedAnswer
from gateway.core.db import transaction
from gateway.errors import GatewayError
from gateway.registry.models import Party
from gateway.registry.service import list_parties
from gateway.web import party_sessions
from gateway.web.csrf import CsrfRefused, FormDep, check_csrf
from gateway.web.i18n import words
from gateway.web.portal_conferences import conference_status
from gateway.web.rendering import Page, PageDep

router = APIRouter(prefix="/chair", include_in_schema=False)

LOGIN = "/chair/login"
ACTION_ROWS = 2
Step = Callable[[Session, Caller], object]
DONE = {"invite": "done_invite", "paper": "done_paper", "outcome": "done_outcome"}


def chair_caller(page: Page, session: Session) -> Caller | None:
    """The session's party as a caller, while its session is open and it may chair."""
    return party_sessions.party_caller(page, session, kind="chair", may_use=_may_chair)


def _may_chair(page: Page, party: Party) -> bool:
    chair_roles = page.runtime.catalogue.conferences.get(CONFERENCE_PURPOSE, frozenset())
    return CONFERENCE_PURPOSE in party.purposes and any(role in chair_roles for role in party.roles)


PAGES = party_sessions.PartyPages(
    kind="chair", login=LOGIN, home="/chair",
    may_use=_may_chair,
)  # fmt: skip


def _refused(page: Page, error: Exception) -> Response:
    if isinstance(error, CsrfRefused):
        return page.render("message.html", status=403, message=page.text("csrf"))
    if isinstance(error, GatewayError):
        return page.render("message.html", status=error.status, message=error.detail)
    if isinstance(error, ConferenceError):
        return page.render("message.html", status=conference_status(error), message=str(error))
    if isinstance(error, ValidationError):
        detail = "; ".join(str(item["msg"]) for item in error.errors()[:3])
        return page.render("message.html", status=422, message=detail)
    raise error


def _act(page: Page, fields: dict[str, list[str]], step: Step, back: str, done: str) -> Response:
    """A form post: check CSRF, run the step in one transaction, then redirect (PRG)."""
    try:
        check_csrf(page.session, fields)
        with transaction(page.runtime.sessions) as session:
            caller = chair_caller(page, session)
            if caller is None:
                return page.redirect(LOGIN)
            step(session, caller)
    except (CsrfRefused, GatewayError, ConferenceError, ValidationError) as error:
        return _refused(page, error)
    return page.redirect(f"{back}?done={done}")


def _one(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0].strip()


@router.get("/login")
def login_form(page: PageDep) -> Response:
    return party_sessions.login_form(
        page, PAGES, demo=page.runtime.settings.demo_login, failed=False
    )


@router.post("/login")
def login(page: PageDep, fields: FormDep) -> Response:
    return party_sessions.login(page, fields, PAGES)


@router.post("/logout")
def logout(page: PageDep, fields: FormDep) -> Response:
    return party_sessions.logout(page, fields, PAGES)


@router.get("")
def overview(page: PageDep) -> Response:
    runtime = page.runtime
    with transaction(runtime.sessions) as session:
        caller = chair_caller(page, session)
        if caller is None:
            return page.redirect(LOGIN)
        found = flow.conferences_of(session, runtime, caller)
    return page.render(
        "chair_overview.html",
        conferences=found,
        party=caller.party,
        regions=runtime.catalogue.regions,
    )


@router.get("/conferences/{conference_id}")
def conference(
    conference_id: str, page: PageDep, done: Annotated[str | None, Query(max_length=16)] = None
) -> Response:
    runtime = page.runtime
    try:
        with transaction(runtime.sessions) as session:
            caller = chair_caller(page, session)
            if caller is None:
                return page.redirect(LOGIN)
            view = flow.agenda(session, runtime, page.trace_id, caller, conference_id)
            taking = {party.party for party in view.parties}
            candidates = [
                (party.id, party.display_name)
                for party in list_parties(session)
                if party.enabled and CONFERENCE_PURPOSE in party.purposes and party.id not in taking
            ]
    except (GatewayError, ConferenceError) as error:
        return _refused(page, error)
    catalogue = runtime.catalogue
    return page.render(
        "chair_conference.html",
        conference=view,
        chair=view.parties[0].party == caller.party,
        candidates=candidates,
        done=DONE.get(done or ""),
        regions=catalogue.regions,
        obstacles=[
            (code, o.label(page.language)) for code, o in sorted(catalogue.obstacles.items())
        ],
        domains=sorted(catalogue.domains),
        party_types=_party_types(page, catalogue.domains),
    )


def _party_types(page: Page, domains: frozenset[str]) -> dict[str, str]:
    """Each domain as a party type in plain words; a domain without words is shown as it is."""
    known = words(page.language)
    return {domain: known.get(f"party_type_{domain}", domain) for domain in domains}


@router.post("/conferences/{conference_id}/invitations")
def invite(conference_id: str, page: PageDep, fields: FormDep) -> Response:
    def step(session: Session, caller: Caller) -> object:
        party = _one(fields, "party")
        return scheduling.invite(session, page.runtime, page.trace_id, caller, conference_id, party)

    return _act(page, fields, step, f"/chair/conferences/{conference_id}", "invite")


@router.post("/conferences/{conference_id}/answers")
def record_answer(conference_id: str, page: PageDep, fields: FormDep) -> Response:
    def step(session: Session, caller: Caller) -> object:
        recorded = RecordedAnswer.model_validate(
            {
                "case_id": _one(fields, "case_id"),
                "answer": _one(fields, "answer"),
                "given_by": _one(fields, "given_by") or "professional",
                "representative_role": _one(fields, "representative_role") or None,
                "evidence_ref": _one(fields, "evidence_ref"),
            }
        )
        return answers.record_answer(
            session, page.runtime, page.trace_id, caller, conference_id, recorded
        )

    return _act(page, fields, step, f"/chair/conferences/{conference_id}", "paper")


@router.post("/conferences/{conference_id}/cases/{case_id}/outcome")
def record_outcome(conference_id: str, case_id: str, page: PageDep, fields: FormDep) -> Response:
    def step(session: Session, caller: Caller) -> object:
        request = OutcomeRequest.model_validate(
            {
                "advice": _one(fields, "advice"),
                "obstacles": [
                    {"code": code, "domain": _one(fields, f"domain-{code}")}
                    for code in fields.get("obstacle", [])
                ],
                "actions": [
                    {
                        "title": _one(fields, f"action_title_{row}"),
                        "owner": _one(fields, f"action_owner_{row}"),
                        "due_date": _one(fields, f"action_due_{row}") or None,
                    }
                    for row in range(ACTION_ROWS)
                    if _one(fields, f"action_title_{row}")
                ],
            }
        )
        return outcome.record_outcome(
            session, page.runtime, page.trace_id, caller, conference_id, case_id, request
        )

    return _act(page, fields, step, f"/chair/conferences/{conference_id}", "outcome")

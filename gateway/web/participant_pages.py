"""The participant portal under /portal: consents, receipts, the access log and the plan.

Pages act for the session's participant only, through the areas' flows (``gateway.consents.flow``,
``gateway.audit_log.access_log``, ``gateway.plans.flow``) as the API does: same rules, same audit
entries. A consent of another participant is 'not found', exactly as in the API.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from consent.errors import ConsentClosed, ConsentNotFound, InvalidConsent
from consent.schemas import ConsentAmendment, ConsentStatus, ConsentTerms
from gateway.audit_log.access_log import access_log as read_access_log
from gateway.consents import flow as consents
from gateway.core.db import transaction
from gateway.demo.flow import demo_participant_token
from gateway.errors import GatewayError
from gateway.identity.models import Participant
from gateway.identity.vault import enrol
from gateway.plans.flow import own_plan
from gateway.registry.service import list_parties
from gateway.web.csrf import CsrfRefused, FormDep, check_csrf
from gateway.web.rendering import Page, PageDep

router = APIRouter(prefix="/portal", include_in_schema=False)

Action = Callable[[Session, Participant], object]
IN_FORCE = {ConsentStatus.ACTIVE, ConsentStatus.PENDING}
DONE = {"grant": "done_grant", "narrow": "done_narrow", "revoke": "done_revoke"}
LOGIN = "/portal/login"
WITHDRAWN_IN_PORTAL = "withdrawn in the participant portal"


def own_participant(page: Page, session: Session) -> Participant | None:
    """The session's participant; nobody else's pages are ever reachable from a session."""
    if page.session is None or page.session.kind != "participant":
        return None
    return session.get(Participant, page.session.subject)


def refusal(page: Page, error: Exception) -> Response:
    """A domain error as a page: the API's status, in plain words where we have them."""
    if isinstance(error, ConsentNotFound):
        return page.render("message.html", status=404, message=page.text("not_found"))
    if isinstance(error, CsrfRefused):
        return page.render("message.html", status=403, message=page.text("csrf"))
    status = {ConsentClosed: 409, InvalidConsent: 422, ValidationError: 422}.get(type(error))
    if isinstance(error, GatewayError):
        status = error.status
    detail = error.detail if isinstance(error, GatewayError) else str(error).splitlines()[0]
    return page.render("message.html", status=status or 400, message=detail)


def act(page: Page, fields: dict[str, list[str]], action: Action, done: str) -> Response:
    """A form post: check CSRF, run the API handler in one transaction, then redirect (PRG)."""
    try:
        check_csrf(page.session, fields)
        with transaction(page.runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            action(session, participant)
    except (CsrfRefused, ConsentNotFound, ConsentClosed, InvalidConsent, ValidationError) as error:
        return refusal(page, error)
    except GatewayError as error:
        return refusal(page, error)
    return page.redirect(f"/portal?done={done}")


def values(fields: dict[str, list[str]], name: str) -> list[str]:
    return [value for value in fields.get(name, []) if value]


@router.get("/login")
def login_form(page: PageDep) -> Response:
    return page.render("portal_login.html", demo=page.runtime.settings.demo_login, failed=False)


@router.post("/login")
def login(page: PageDep, fields: FormDep) -> Response:
    runtime = page.runtime
    try:
        check_csrf(page.session, fields)
    except CsrfRefused as error:
        return refusal(page, error)
    if not runtime.settings.demo_login:
        return page.render("portal_login.html", status=404, demo=False, failed=False)
    bsn = (fields.get("bsn") or [""])[0].strip()
    try:
        token = demo_participant_token(runtime, bsn)
        identity = runtime.participants.verify(token, runtime.clock())
    except GatewayError:
        return page.render("portal_login.html", status=401, demo=True, failed=True)
    with transaction(runtime.sessions) as session:
        participant = enrol(
            session=session, keys=runtime.identity_keys, bsn=identity.bsn,
            domains=runtime.catalogue.domains, now=runtime.clock(),
        )  # fmt: skip
        participant_id = participant.id
    page.start(page.web.sessions.issue("participant", participant_id))
    return page.redirect("/portal")


@router.post("/logout")
def logout(page: PageDep, fields: FormDep) -> Response:
    try:
        check_csrf(page.session, fields)
    except CsrfRefused as error:
        return refusal(page, error)
    page.start(page.web.sessions.issue("anonymous", "-"))
    return page.redirect(LOGIN)


@router.get("")
def overview(page: PageDep, done: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    runtime = page.runtime
    with transaction(runtime.sessions) as session:
        participant = own_participant(page, session)
        if participant is None:
            return page.redirect(LOGIN)
        given = consents.own_consents(session, runtime, participant)
        parties = [party for party in list_parties(session) if party.enabled]
    names = {party.id: party.display_name for party in parties}
    grantees = [(party.id, party.display_name) for party in parties] + [
        (domain, "") for domain in sorted(runtime.catalogue.domains)
    ]
    purposes = {
        name: sorted(categories) for name, categories in runtime.catalogue.standing_purposes.items()
    }
    return page.render(
        "portal_overview.html",
        consents=[consent for consent in given if consent.status in IN_FORCE],
        names=names,
        grantees=grantees,
        purposes=purposes,
        done=DONE.get(done or ""),
    )


@router.post("/consents")
def grant(page: PageDep, fields: FormDep) -> Response:
    def give(session: Session, participant: Participant) -> object:
        terms = ConsentTerms(
            grantee=(fields.get("grantee") or [""])[0],
            purpose=(fields.get("purpose") or [""])[0],
            categories=values(fields, "categories"),
        )
        return consents.give(session, page.runtime, page.trace_id, participant, terms)

    return act(page, fields, give, "grant")


@router.post("/consents/{consent_id}/narrow")
def narrow(consent_id: str, page: PageDep, fields: FormDep) -> Response:
    def amend(session: Session, participant: Participant) -> object:
        amendment = ConsentAmendment(categories=values(fields, "categories"))
        return consents.amend(
            session, page.runtime, page.trace_id, participant, consent_id, amendment
        )

    return act(page, fields, amend, "narrow")


@router.post("/consents/{consent_id}/revoke")
def revoke(consent_id: str, page: PageDep, fields: FormDep) -> Response:
    def withdraw(session: Session, participant: Participant) -> object:
        return consents.revoke(
            session, page.runtime, page.trace_id, participant, consent_id, WITHDRAWN_IN_PORTAL
        )

    return act(page, fields, withdraw, "revoke")


@router.get("/consents/{consent_id}")
def consent_details(consent_id: str, page: PageDep) -> Response:
    runtime = page.runtime
    try:
        with transaction(runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            consent = consents.own_consent(session, runtime, participant, consent_id)
            events = consents.history(session, runtime, participant, consent_id)
            names = {party.id: party.display_name for party in list_parties(session)}
    except ConsentNotFound as error:
        return refusal(page, error)
    return page.render(
        "portal_consent.html",
        consent=consent,
        events=events,
        names=names,
        in_force=consent.status in IN_FORCE,
        purposes={consent.purpose: sorted(runtime.catalogue.purposes.get(consent.purpose, ()))},
    )


@router.get("/consents/{consent_id}/receipt")
def receipt(consent_id: str, page: PageDep) -> Response:
    runtime = page.runtime
    try:
        with transaction(runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            signed = consents.receipt(session, runtime, participant, consent_id)
    except ConsentNotFound as error:
        return refusal(page, error)
    body = json.dumps(signed.model_dump(), indent=2, ensure_ascii=False)
    return page.finish(
        Response(
            body,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="consent-receipt-{consent_id}.json"'
            },
        )
    )


@router.get("/access-log")
def access_log(
    page: PageDep, after_seq: Annotated[int, Query(alias="afterSeq", ge=0)] = 0
) -> Response:
    runtime = page.runtime
    with transaction(runtime.sessions) as session:
        participant = own_participant(page, session)
        if participant is None:
            return page.redirect(LOGIN)
        log = read_access_log(session, runtime, participant, after_seq=after_seq, limit=50)
    return page.render("portal_access_log.html", log=log)


@router.get("/plan")
def plan(page: PageDep) -> Response:
    runtime = page.runtime
    with transaction(runtime.sessions) as session:
        participant = own_participant(page, session)
        if participant is None:
            return page.redirect(LOGIN)
        plan_view = own_plan(session, runtime, participant)
        names = {party.id: party.display_name for party in list_parties(session)}
    return page.render("portal_plan.html", plan=plan_view, names=names)

"""The participant portal under /portal: the overview of consents, the access log and the plan.
Giving, narrowing and withdrawing a consent, its history and receipt: ``consent_pages``.

Pages act for the session's participant only, through the areas' flows (``gateway.consents.flow``,
``gateway.audit_log.access_log``, ``gateway.plans.flow``) as the API does: same rules, same audit
entries. A consent of another participant is 'not found', exactly as in the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from consent.errors import ConsentClosed, ConsentNotFound
from consent.schemas import ConsentStatus
from dbtypes import MAX_JSON_INT
from gateway.audit_log.access_log import access_log as read_access_log
from gateway.audit_log.access_log import own_entry_proof
from gateway.auth import flow as auth_flow
from gateway.auth.oidc import SignInRefused
from gateway.consents import flow as consents
from gateway.core.db import transaction
from gateway.demo.flow import demo_participant_token
from gateway.errors import GatewayError
from gateway.identity.models import Participant
from gateway.identity.vault import enrol
from gateway.plans.flow import own_plan
from gateway.registry.service import list_parties
from gateway.web import session_records, sign_in
from gateway.web.csrf import CsrfRefused, FormDep, check_csrf
from gateway.web.forms import FormErrors
from gateway.web.rendering import Page, PageDep

router = APIRouter(prefix="/portal", include_in_schema=False)

Action = Callable[[Session, Participant], object]
IN_FORCE = {ConsentStatus.ACTIVE, ConsentStatus.PENDING}
CLOSED = {ConsentStatus.REVOKED, ConsentStatus.EXPIRED}
DONE = {"grant": "done_grant", "narrow": "done_narrow", "revoke": "done_revoke"}
LOGIN = "/portal/login"
CALLBACK = "/portal/callback"


def own_participant(page: Page, session: Session) -> Participant | None:
    """The session's participant while its record is open; nobody else's pages are ever
    reachable from a session."""
    runtime = page.runtime
    record = session_records.current(
        session, page.session, now=runtime.clock(), settings=runtime.settings
    )
    if record is None or record.kind != "participant":
        return None
    return session.get(Participant, record.subject)


def refusal(page: Page, error: Exception) -> Response:
    """A refusal as a page with the portal's menu: the API's status, always in plain words."""
    if isinstance(error, ConsentNotFound):
        return page.render("message.html", status=404, message=page.text("not_found"))
    if isinstance(error, CsrfRefused):
        return page.render("message.html", status=403, message=page.text("csrf"))
    if isinstance(error, ConsentClosed):
        return page.render("message.html", status=409, message=page.text("err_closed"))
    status = error.status if isinstance(error, GatewayError) else 400
    return page.render("message.html", status=status, message=page.text("error_generic"))


def act(page: Page, fields: dict[str, list[str]], action: Action, done: str) -> Response:
    """A form post: check CSRF, run the flow in one transaction, then redirect (PRG)."""
    try:
        check_csrf(page.session, fields)
        with transaction(page.runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            action(session, participant)
    except (CsrfRefused, ConsentNotFound, ConsentClosed, GatewayError) as error:
        return refusal(page, error)
    return page.redirect(f"/portal?done={done}")


def values(fields: dict[str, list[str]], name: str) -> list[str]:
    return [value for value in fields.get(name, []) if value]


@router.get("/login")
def login_form(page: PageDep) -> Response:
    """With a DigiD broker configured, straight to it; otherwise the demo login (if on)."""
    provider = page.runtime.sign_in.participant
    if provider is not None:
        return sign_in.to_provider(page, provider, CALLBACK, LOGIN)
    return page.render("portal_login.html", demo=page.runtime.settings.demo_login, failed=False)


@router.get("/callback")
def callback(page: PageDep) -> Response:
    """The provider's redirect back: the code for an ID token, the ID token for a session."""
    runtime = page.runtime
    provider = runtime.sign_in.participant
    if provider is None:
        return page.render("message.html", status=404, message=page.text("not_found"))
    try:
        claims = provider.finish(
            sign_in.pending(page), sign_in.callback_query(page),
            redirect_uri=runtime.settings.public_url + CALLBACK, now=runtime.clock(),
        )  # fmt: skip
        with transaction(runtime.sessions) as session:
            participant = auth_flow.participant_of(session, runtime, claims)
            signed_in = page.web.sessions.signed_in("participant", participant.id)
            session_records.open_session(
                session, signed_in, now=runtime.clock(), user_id=None, roles=[]
            )
    except SignInRefused as error:
        return sign_in.refused(page, error, again=LOGIN)
    return sign_in.signed_in(page, signed_in, target="/portal")


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
        signed_in = page.web.sessions.signed_in("participant", participant.id)
        session_records.open_session(
            session, signed_in, now=runtime.clock(), user_id=None, roles=[]
        )
    page.start(signed_in)
    return page.redirect("/portal")


@router.post("/logout")
def logout(page: PageDep, fields: FormDep) -> Response:
    try:
        check_csrf(page.session, fields)
    except CsrfRefused as error:
        return refusal(page, error)
    with transaction(page.runtime.sessions) as session:
        session_records.end_by_cookie(session, page.session, now=page.runtime.clock())
    page.sign_out()
    return page.redirect(LOGIN)


@router.get("")
def overview(page: PageDep, done: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    return overview_page(page, done=DONE.get(done or ""))


def overview_page(
    page: Page, *, done: str | None = None, errors: FormErrors | None = None, status: int = 200
) -> Response:
    """The consents in force with their forms, the grant forms and the earlier consents; a form
    that failed is shown again with its errors beside its fields and the choices kept."""
    runtime = page.runtime
    with transaction(runtime.sessions) as session:
        participant = own_participant(page, session)
        if participant is None:
            return page.redirect(LOGIN)
        given = consents.own_consents(session, runtime, participant)
        parties = [party for party in list_parties(session) if party.enabled]
    purposes = {
        name: sorted(categories) for name, categories in runtime.catalogue.standing_purposes.items()
    }
    return page.render(
        "portal_overview.html",
        status=status,
        consents=[consent for consent in given if consent.status in IN_FORCE],
        earlier=[consent for consent in reversed(given) if consent.status in CLOSED],
        names={party.id: party.display_name for party in parties},
        offices=sorted(((party.id, party.display_name) for party in parties), key=lambda p: p[1]),
        domains=sorted(runtime.catalogue.domains),
        purposes=purposes,
        done=done,
        errors=errors,
    )


@router.get("/access-log")
def access_log(
    page: PageDep,
    before_seq: Annotated[int | None, Query(alias="beforeSeq", ge=1, le=MAX_JSON_INT)] = None,
) -> Response:
    """Newest first; each older page starts before the last entry shown."""
    runtime = page.runtime
    with transaction(runtime.sessions) as session:
        participant = own_participant(page, session)
        if participant is None:
            return page.redirect(LOGIN)
        log = read_access_log(
            session, runtime, participant, before_seq=before_seq, newest_first=True, limit=50
        )
        names = {party.id: party.display_name for party in list_parties(session)}
    return page.render("portal_access_log.html", log=log, names=names)


@router.get("/access-log/{seq}/proof")
def access_log_proof(seq: Annotated[int, Path(ge=1, le=MAX_JSON_INT)], page: PageDep) -> Response:
    """The proof that the log holds this entry of the access log, as a file to keep or to give
    to anyone who checks it (`schakel audit check-proof`)."""
    runtime = page.runtime
    try:
        with transaction(runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            bundle = own_entry_proof(session, runtime, participant, seq)
    except GatewayError as error:
        return refusal(page, error)
    return page.finish(
        Response(
            bundle.model_dump_json(indent=2),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="schakel-proof-{seq}.json"'},
        )
    )


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

"""Demo sign-in of a party's staff page (a conference chair, a steering group): the same
server-side session record, audit entry and ending rules as an officer's sign-in.

A party's page is only reachable while the record is open, the party is enabled and it still
may use the page; otherwise the record ends at that request, so logout, a disabled party or a
withdrawn role or purpose ends a copied cookie too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi.responses import Response
from sqlalchemy.orm import Session

from audit.schemas import Outcome
from gateway.auth import flow as auth_flow
from gateway.auth.access_tokens import Caller
from gateway.core.db import transaction
from gateway.registry.models import Party
from gateway.registry.service import find_party
from gateway.web import session_records
from gateway.web.csrf import CsrfRefused, check_csrf
from gateway.web.rendering import Page
from gateway.web.sessions import Kind, WebSession

MayUse = Callable[[Page, Party], bool]


@dataclass(frozen=True)
class PartyPages:
    """A party's pages behind a demo sign-in: the session's kind (which also names the pages'
    base template and words), the login page's address, where a sign-in leads, and which
    parties may use them."""

    kind: Kind
    login: str
    home: str
    may_use: MayUse


def login_form(
    page: Page, pages: PartyPages, *, status: int = 200, demo: bool, failed: bool
) -> Response:
    """The demo login page of a party's pages (``party_login.html``, in their own frame)."""
    return page.render(
        "party_login.html", status=status, kind=pages.kind, login_path=pages.login, demo=demo,
        failed=failed,
    )  # fmt: skip


def login(page: Page, fields: dict[str, list[str]], pages: PartyPages) -> Response:
    """The demo login form's post: a session for the party named, or the form again (401)."""
    try:
        check_csrf(page.session, fields)
    except CsrfRefused:
        return page.render("message.html", status=403, message=page.text("csrf"))
    if not page.runtime.settings.demo_login:
        return login_form(page, pages, status=404, demo=False, failed=False)
    party_id = (fields.get("party") or [""])[0].strip()
    with transaction(page.runtime.sessions) as session:
        signed_in = demo_sign_in(
            page, session, kind=pages.kind, party_id=party_id, may_use=pages.may_use
        )
    if signed_in is None:
        return login_form(page, pages, status=401, demo=True, failed=True)
    page.start(signed_in)
    return page.redirect(pages.home)


def logout(page: Page, fields: dict[str, list[str]], pages: PartyPages) -> Response:
    """Logout: the record ends (every copy of the cookie with it), back to the login page."""
    return end_session(page, fields, login=pages.login)


def end_session(page: Page, fields: dict[str, list[str]], *, login: str) -> Response:
    """Any staff page's logout (a party's, an officer's): the session record ends, so every
    copy of the cookie is refused from now on, and the browser goes to ``login``."""
    try:
        check_csrf(page.session, fields)
    except CsrfRefused:
        return page.render("message.html", status=403, message=page.text("csrf"))
    with transaction(page.runtime.sessions) as session:
        session_records.end_by_cookie(session, page.session, now=page.runtime.clock())
    page.sign_out()
    return page.redirect(login)


def demo_sign_in(
    page: Page, session: Session, *, kind: Kind, party_id: str, may_use: MayUse
) -> WebSession | None:
    """A signed-in session for the party if it may use the page, its record and the audit
    entry of the sign-in (or of its refusal) in the caller's transaction; none if refused."""
    party = find_party(session, party_id)
    if party is None:
        return None
    allowed = party.enabled and may_use(page, party)
    signed_in = page.web.sessions.signed_in(kind, party.id) if allowed else None
    if signed_in is not None:
        session_records.open_session(
            session, signed_in, now=page.runtime.clock(), user_id="demo", roles=list(party.roles)
        )
    auth_flow.record_sign_in(
        session, page.runtime, party=party.id, trace_id=page.trace_id,
        outcome=Outcome.OK if signed_in else Outcome.DENY,
        reason=f"demo login to the {kind} pages" if signed_in else f"may not use the {kind} pages",
        user="demo",
    )  # fmt: skip
    return signed_in


def party_caller(page: Page, session: Session, *, kind: Kind, may_use: MayUse) -> Caller | None:
    """The signed-in party as a caller, while its record is open and it may use the page."""
    runtime = page.runtime
    now = runtime.clock()
    record = session_records.current(session, page.session, now=now, settings=runtime.settings)
    if record is None or record.kind != kind:
        return None
    party = find_party(session, record.subject)
    if party is None or not party.enabled:
        session_records.end(session, record, now=now, reason="party-disabled")
        return None
    if not may_use(page, party):
        session_records.end(session, record, now=now, reason="role-withdrawn")
        return None
    return Caller(
        party=party.id, domain=party.domain, roles=tuple(party.roles),
        purposes=tuple(party.purposes), token_id="web-session",  # noqa: S106 - a label
    )  # fmt: skip

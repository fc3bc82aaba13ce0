"""The privacy officer's dashboard under /officer: audit search, export, chain status, chart.

Queries go through ``gateway.audit_log.flow``, as over the API, so each is checked and recorded
(``audit.query``). Entries name participants by audit pseudonym; a BSN is only
used when the officer types one into the search on purpose, and that query is itself recorded.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from audit.checkpoint import checkpoint_document, latest_checkpoint
from audit.schemas import Outcome
from audit.verify_stored import verify_database
from gateway.audit_log import flow as audit_log
from gateway.audit_log.flow import Filters, OfficerAsk
from gateway.auth.access_tokens import Caller
from gateway.auth.roles import OFFICER_ROLE
from gateway.core.db import read_transaction, transaction
from gateway.errors import GatewayError, InvalidInput
from gateway.notices.flow import overdue as overdue_notices
from gateway.registry.service import find_party, list_parties
from gateway.runtime import Runtime
from gateway.web.chart import WINDOW_DAYS, party_charts, unusual_activity
from gateway.web.csrf import CsrfRefused, FormDep, check_csrf
from gateway.web.rendering import Page, PageDep

router = APIRouter(prefix="/officer", include_in_schema=False)

LOGIN = "/officer/login"
FILTERS = ("subjectRef", "party", "action", "purpose", "outcome", "from", "until")
PAGE_SIZE = 50


def officer_caller(page: Page, session: Session) -> Caller | None:
    """The session's party as a caller, only while it is enabled and holds the officer role."""
    if page.session is None or page.session.kind != "officer":
        return None
    party = find_party(session, page.session.subject)
    if party is None or not party.enabled or OFFICER_ROLE not in party.roles:
        return None
    return Caller(
        party=party.id,
        domain=party.domain,
        roles=tuple(party.roles),
        purposes=tuple(party.purposes),
        token_id="web-session",  # noqa: S106 - a label, not a secret
    )


def officer_ask(page: Page, caller: Caller) -> OfficerAsk:
    """The officer's query as its audit entry describes it (the page's path and parameters)."""
    request = page.request
    return OfficerAsk(
        caller=caller,
        description=audit_log.describe(request.url.path, dict(request.query_params.items())),
        trace_id=page.trace_id,
    )


def _day(text: str, name: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"{name}: a date such as 2026-11-24", field=name) from None


def page_filters(given: dict[str, str]) -> Filters:
    """The form's fields as filters (dates are whole UTC days)."""
    outcome = given.get("outcome") or None
    if outcome is not None and outcome not in set(Outcome):
        raise InvalidInput(f"unknown outcome {outcome!r}", field="outcome")
    return Filters(
        subject_ref=given.get("subjectRef") or None,
        party=given.get("party") or None,
        action=given.get("action") or None,
        purpose=given.get("purpose") or None,
        outcome=Outcome(outcome) if outcome else None,
        recorded_from=_day(given.get("from", ""), "from"),
        recorded_until=_day(given.get("until", ""), "until"),
    )


def given_filters(page: Page) -> dict[str, str]:
    params = page.request.query_params
    return {name: params.get(name, "").strip()[:128] for name in FILTERS}


def shown_subject(runtime: Runtime, session: Session, given: str) -> str:
    """A BSN typed into the search is shown back as the pseudonym it resolved to, never as is."""
    if not re.fullmatch(r"[0-9]{9}", given):
        return given
    try:
        resolved = audit_log.subject_filter(session, runtime, given)
    except GatewayError:
        return ""
    return resolved if resolved and re.fullmatch(r"[0-9a-f]{64}", resolved) else ""


@router.get("/login")
def login_form(page: PageDep) -> Response:
    return page.render("officer_login.html", demo=page.runtime.settings.demo_login, failed=False)


@router.post("/login")
def login(page: PageDep, fields: FormDep) -> Response:
    try:
        check_csrf(page.session, fields)
    except CsrfRefused:
        return page.render("message.html", status=403, message=page.text("csrf"))
    if not page.runtime.settings.demo_login:
        return page.render("officer_login.html", status=404, demo=False, failed=False)
    party_id = (fields.get("party") or [""])[0].strip()
    with transaction(page.runtime.sessions) as session:
        party = find_party(session, party_id)
        allowed = party is not None and party.enabled and OFFICER_ROLE in party.roles
    if not allowed:
        return page.render("officer_login.html", status=401, demo=True, failed=True)
    page.start(page.web.sessions.issue("officer", party_id))
    return page.redirect("/officer")


@router.post("/logout")
def logout(page: PageDep, fields: FormDep) -> Response:
    try:
        check_csrf(page.session, fields)
    except CsrfRefused:
        return page.render("message.html", status=403, message=page.text("csrf"))
    page.start(page.web.sessions.issue("anonymous", "-"))
    return page.redirect(LOGIN)


@router.get("")
def dashboard(
    page: PageDep, after_seq: Annotated[int, Query(alias="afterSeq", ge=0)] = 0
) -> Response:
    runtime = page.runtime
    given = given_filters(page)
    today = runtime.clock().astimezone(UTC).date()
    window = Filters(
        recorded_from=datetime.combine(
            today - timedelta(days=WINDOW_DAYS - 1), datetime.min.time(), tzinfo=UTC
        )
    )
    error: str | None = None
    entries: list[Any] = []
    next_after: int | None = None
    with transaction(runtime.sessions) as session:
        caller = officer_caller(page, session)
        if caller is None:
            return page.redirect(LOGIN)
        ask = officer_ask(page, caller)
        try:
            entries, next_after = audit_log.search(
                session, runtime, ask, page_filters(given), after_seq=after_seq, limit=PAGE_SIZE
            )
        except GatewayError as problem:
            error = problem.detail
        stats = audit_log.statistics(session, runtime, ask, window)
        overdue = overdue_notices(session, runtime, caller)
        checkpoint = latest_checkpoint(session)
        checkpoint_view = checkpoint_document(checkpoint) if checkpoint is not None else None
        parties = sorted(party.id for party in list_parties(session))
        given["subjectRef"] = shown_subject(runtime, session, given["subjectRef"])
    # Committed entries only, the officer's own queries included; writers go on meanwhile.
    with read_transaction(runtime.sessions) as session:
        report = verify_database(session=session, jwks=runtime.audit_keys.jwks)
    query = urlencode({name: value for name, value in given.items() if value})
    return page.render(
        "officer_dashboard.html",
        status=422 if error else 200,
        officer=caller.party,
        given=given,
        error=error,
        entries=entries,
        next_after=next_after,
        export_query=query,
        parties=parties,
        purposes=sorted(runtime.catalogue.purposes),
        outcomes=[outcome.value for outcome in Outcome],
        report=report,
        checkpoint=checkpoint_view,
        charts=party_charts(stats, today),
        unusual=unusual_activity(stats, today),
        overdue=overdue,
    )


@router.get("/export")
def export(
    page: PageDep, export_format: Annotated[Literal["ndjson", "csv"], Query(alias="format")] = "csv"
) -> Response:
    runtime = page.runtime
    try:
        with transaction(runtime.sessions) as session:
            caller = officer_caller(page, session)
            if caller is None:
                return page.redirect(LOGIN)
            filters = page_filters(given_filters(page))
            download = audit_log.export(
                session, runtime, officer_ask(page, caller), filters, after_seq=0,
                as_format=export_format,
            )  # fmt: skip
    except GatewayError as problem:
        return page.render("message.html", status=problem.status, message=problem.detail)
    return page.finish(
        StreamingResponse(
            download.lines,
            media_type=download.media_type,
            headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
        )
    )

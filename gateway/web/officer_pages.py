"""The privacy officer's pages under /officer: one search that answers "who saw this person's
data, and on what grounds?", a participant's whole timeline (GDPR Art. 15), unusual activity,
the chart, the chain check and overdue deletion notices.

Queries go through ``gateway.audit_log.flow``, as over the API, so each is checked and recorded
(``audit.query``). Entries name participants by audit pseudonym. A BSN is only used when the
officer types one into a search form, which is sent by POST: it never appears in an address,
the browser's history or a server's access log, and a GET that carries one is refused.
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
from audit.verify_database import verify_database
from dbtypes import MAX_JSON_INT
from gateway.audit_log import flow as audit_log
from gateway.audit_log.flow import Filters, OfficerAsk
from gateway.audit_log.grounds import ConsentGround, grounds
from gateway.audit_log.unusual import Thresholds
from gateway.auth import flow as auth_flow
from gateway.auth.access_tokens import Caller
from gateway.auth.oidc import SignInRefused
from gateway.auth.roles import OFFICER_ROLES
from gateway.core.db import read_transaction, transaction
from gateway.errors import GatewayError, InvalidInput
from gateway.notices.flow import overdue as overdue_notices
from gateway.registry.service import find_party, list_parties
from gateway.runtime import Runtime
from gateway.web import session_records, sign_in
from gateway.web.chart import WINDOW_DAYS, party_charts
from gateway.web.csrf import CsrfRefused, FormDep, check_csrf
from gateway.web.i18n import LOCAL_ZONE
from gateway.web.officer_views import chain_sentences, entry_row, finding_line
from gateway.web.officer_words import ACTIONS, OUTCOMES
from gateway.web.party_sessions import end_session
from gateway.web.rendering import Page, PageDep

router = APIRouter(prefix="/officer", include_in_schema=False)

LOGIN = "/officer/login"
CALLBACK = "/officer/callback"
FILTERS = ("subject", "party", "user", "action", "purpose", "outcome", "from", "until", "own")
PAGE_SIZE = 50


def officer_caller(page: Page, session: Session) -> Caller | None:
    """The session's party as a caller, only while the session's record is open, the party is
    enabled and still holds an officer role the officer signed in with; otherwise the session
    ends here."""
    runtime = page.runtime
    now = runtime.clock()
    record = session_records.current(session, page.session, now=now, settings=runtime.settings)
    if record is None or record.kind != "officer":
        return None
    party = find_party(session, record.subject)
    roles = [role for role in record.roles if party is not None and role in party.roles]
    if party is None or not party.enabled:
        session_records.end(session, record, now=now, reason="party-disabled")
        return None
    if not OFFICER_ROLES & set(roles):
        session_records.end(session, record, now=now, reason="role-withdrawn")
        return None
    return Caller(
        party=party.id,
        domain=party.domain,
        roles=tuple(roles),
        purposes=tuple(party.purposes),
        token_id="web-session",  # noqa: S106 - a label, not a secret
    )


def officer_ask(page: Page, caller: Caller, given: dict[str, str]) -> OfficerAsk:
    """The officer's query as its audit entry describes it: the page and what was asked (a
    BSN in it is redacted by the audit log itself)."""
    asked = {name: value for name, value in given.items() if value}
    return OfficerAsk(
        caller=caller,
        description=audit_log.describe(page.request.url.path, asked),
        trace_id=page.trace_id,
    )


def refusal_text(page: Page, failure: GatewayError) -> str:
    """A refused search in words: outside the organisation's part of the log, or a bad filter."""
    return page.text("outside_scope" if failure.status == 403 else "search_error")


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
    return login_page(page)


def login_page(page: Page, *, status: int = 200, failed: bool = False) -> Response:
    """Each organisation with a provider of its own, and the demo login where it is on."""
    runtime = page.runtime
    with read_transaction(runtime.sessions) as session:
        names = {party.id: party.display_name for party in list_parties(session)}
    providers = [(party, names.get(party, party)) for party in sorted(runtime.sign_in.officers)]
    return page.render(
        "officer_login.html", status=status, demo=runtime.settings.demo_login, failed=failed,
        providers=providers,
    )  # fmt: skip


@router.get("/login/{party_id}")
def sign_in_at(party_id: str, page: PageDep) -> Response:
    """To the organisation's own provider."""
    provider = page.runtime.sign_in.officers.get(party_id)
    if provider is None:
        return page.render("message.html", status=404, message=page.text("not_found"))
    return sign_in.to_provider(page, provider.relying_party, CALLBACK, LOGIN)


@router.get("/callback")
def callback(page: PageDep) -> Response:
    """The provider's redirect back; a sign-in and a refused one are each an audit entry."""
    runtime = page.runtime
    try:
        pending = sign_in.pending(page)
    except SignInRefused as error:
        return sign_in.refused(page, error, again=LOGIN)
    provider = runtime.sign_in.officers.get(pending.provider)
    if provider is None:
        return sign_in.refused(page, SignInRefused("state", "unknown provider"), again=LOGIN)
    refusal: SignInRefused | None = None
    with transaction(runtime.sessions) as session:
        try:
            claims = provider.relying_party.finish(
                pending, sign_in.callback_query(page),
                redirect_uri=runtime.settings.public_url + CALLBACK, now=runtime.clock(),
            )  # fmt: skip
        except SignInRefused as error:
            auth_flow.record_sign_in(
                session, runtime, party=provider.party, trace_id=page.trace_id,
                outcome=Outcome.DENY, reason=f"{error.reason}: {error.detail}", user=None,
            )  # fmt: skip
            refusal = error
        else:
            try:
                signed = auth_flow.officer_signed_in(
                    session, runtime, provider, claims, page.trace_id
                )
            except SignInRefused as error:
                refusal = error  # on record already; committed with this transaction
            else:
                web_session = page.web.sessions.signed_in("officer", signed.party)
                session_records.open_session(
                    session, web_session, now=runtime.clock(), user_id=signed.user,
                    roles=signed.roles,
                )  # fmt: skip
    if refusal is not None:
        return sign_in.refused(page, refusal, again=LOGIN)
    return sign_in.signed_in(page, web_session, target="/officer")


@router.post("/login")
def login(page: PageDep, fields: FormDep) -> Response:
    try:
        check_csrf(page.session, fields)
    except CsrfRefused:
        return page.render("message.html", status=403, message=page.text("csrf"))
    if not page.runtime.settings.demo_login:
        return login_page(page, status=404)
    party_id = (fields.get("party") or [""])[0].strip()
    signed_in = None
    with transaction(page.runtime.sessions) as session:
        party = find_party(session, party_id)
        roles = sorted(OFFICER_ROLES & set(party.roles)) if party is not None else []
        if party is not None and party.enabled and roles:
            signed_in = page.web.sessions.signed_in("officer", party_id)
            session_records.open_session(
                session, signed_in, now=page.runtime.clock(), user_id="demo", roles=roles
            )
        if party is not None:
            auth_flow.record_sign_in(
                session, page.runtime, party=party.id, trace_id=page.trace_id,
                outcome=Outcome.OK if signed_in else Outcome.DENY,
                reason=f"demo login; roles: {', '.join(roles)}" if signed_in else "no-role",
                user="demo",
            )  # fmt: skip
    if signed_in is None:
        return login_page(page, status=401, failed=True)
    page.start(signed_in)
    return page.redirect("/officer")


@router.post("/logout")
def logout(page: PageDep, fields: FormDep) -> Response:
    return end_session(page, fields, login=LOGIN)


def _local_day(text: str, name: str, *, inclusive_end: bool = False) -> datetime | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text) + timedelta(days=1 if inclusive_end else 0)
    except (ValueError, OverflowError):
        raise InvalidInput(f"{name}: a date such as 2026-11-24", field=name) from None
    return datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_ZONE)


def page_filters(given: dict[str, str], caller: Caller) -> Filters:
    """The form's fields as filters: days in the Netherlands, 'until' inclusive, the officer's
    own searches left out unless asked for."""
    outcome = given.get("outcome") or None
    if outcome is not None and outcome not in set(Outcome):
        raise InvalidInput(f"unknown outcome {outcome!r}", field="outcome")
    return Filters(
        subject_ref=given.get("subject") or None,
        party=given.get("party") or None,
        actor_user=given.get("user") or None,
        action=given.get("action") or None,
        purpose=given.get("purpose") or None,
        outcome=Outcome(outcome) if outcome else None,
        recorded_from=_local_day(given.get("from", ""), "from"),
        recorded_until=_local_day(given.get("until", ""), "until", inclusive_end=True),
        hide_queries_by=None if given.get("own") else caller.party,
    )


def query_filters(page: Page) -> dict[str, str]:
    params = page.request.query_params
    return {name: params.get(name, "").strip()[:128] for name in FILTERS}


def form_filters(fields: dict[str, list[str]]) -> dict[str, str]:
    return {name: (fields.get(name) or [""])[0].strip()[:128] for name in FILTERS}


def _bsn_in_address(given: dict[str, str]) -> bool:
    return bool(re.fullmatch(r"[0-9]{9}", given.get("subject", "")))


@router.get("")
def dashboard(
    page: PageDep,
    before_seq: Annotated[int | None, Query(alias="beforeSeq", ge=1, le=MAX_JSON_INT)] = None,
) -> Response:
    """The search from the address (never with a BSN), its answer, and the overview."""
    given = query_filters(page)
    if _bsn_in_address(given):
        return page.render("message.html", status=400, message=page.text("bsn_in_address"))
    return _dashboard(page, given, before_seq=before_seq)


@router.post("")
def search(page: PageDep, fields: FormDep) -> Response:
    """The search form: sent by POST, so a BSN typed in stays out of the address and history;
    the answer names the participant by pseudonym only."""
    try:
        check_csrf(page.session, fields)
    except CsrfRefused:
        return page.render("message.html", status=403, message=page.text("csrf"))
    return _dashboard(page, form_filters(fields), before_seq=None)


def _dashboard(page: Page, given: dict[str, str], *, before_seq: int | None) -> Response:
    runtime = page.runtime
    today = runtime.clock().astimezone(UTC).date()
    window = Filters(
        recorded_from=datetime.combine(
            today - timedelta(days=WINDOW_DAYS - 1), datetime.min.time(), tzinfo=UTC
        )
    )
    error: str | None = None
    error_status = 422
    documents: list[dict[str, Any]] = []
    cursor: int | None = None
    found: dict[str, ConsentGround] = {}
    with transaction(runtime.sessions) as session:
        caller = officer_caller(page, session)
        if caller is None:
            return page.redirect(LOGIN)
        ask = officer_ask(page, caller, given)
        try:
            documents, cursor = audit_log.search(
                session, runtime, ask, page_filters(given, caller), limit=PAGE_SIZE,
                newest_first=True, before_seq=before_seq,
            )  # fmt: skip
            relied = [consent for document in documents for consent in document["consent_ids"]]
            found = grounds(session, relied)
        except GatewayError as failure:
            error, error_status = refusal_text(page, failure), failure.status
        stats = audit_log.statistics(session, runtime, ask, window)
        unusual = audit_log.unusual_activity(session, runtime, ask)
        overdue = overdue_notices(session, runtime, caller)
        checkpoint = latest_checkpoint(session)
        checkpoint_view = checkpoint_document(checkpoint) if checkpoint is not None else None
        names = {party.id: party.display_name for party in list_parties(session)}
        given["subject"] = shown_subject(runtime, session, given["subject"])
    # Committed entries only, the officer's own queries included; writers go on meanwhile.
    with read_transaction(runtime.sessions) as session:
        report = verify_database(session=session, jwks=runtime.audit_keys.jwks)
    language = page.language
    known = frozenset(runtime.catalogue.categories)
    limits = Thresholds.of(runtime.settings)
    query = urlencode({name: value for name, value in given.items() if value})
    return page.render(
        "officer_dashboard.html",
        status=error_status if error else 200,
        officer=names.get(caller.party, caller.party),
        given=given,
        error=error,
        rows=[entry_row(language, document, names, found, known) for document in documents],
        next_before=cursor,
        search_query=query,
        parties=sorted(names.items(), key=lambda item: item[1]),
        actions=sorted(ACTIONS[language].items(), key=lambda item: item[1]),
        purposes=sorted(runtime.catalogue.purposes),
        outcomes=sorted(OUTCOMES[language].items()),
        chain=chain_sentences(language, report, checkpoint_view),
        chain_ok=report.ok,
        charts=party_charts(stats, today, names),
        unusual=[finding_line(language, finding, limits, names) for finding in unusual],
        overdue=overdue,
        names=names,
    )


@router.get("/participant")
def participant_form(page: PageDep, subject: Annotated[str, Query(max_length=64)] = "") -> Response:
    """One participant's timeline by pseudonym (from a link); a BSN goes through the form."""
    if _bsn_in_address({"subject": subject}):
        return page.render("message.html", status=400, message=page.text("bsn_in_address"))
    return _participant(page, subject.strip())


@router.post("/participant")
def participant_search(page: PageDep, fields: FormDep) -> Response:
    try:
        check_csrf(page.session, fields)
    except CsrfRefused:
        return page.render("message.html", status=403, message=page.text("csrf"))
    return _participant(page, form_filters(fields)["subject"])


def _participant(page: Page, subject: str) -> Response:
    """Everything about one participant, printable, for a subject-access request (Art. 15)."""
    runtime = page.runtime
    with transaction(runtime.sessions) as session:
        caller = officer_caller(page, session)
        if caller is None:
            return page.redirect(LOGIN)
        names = {party.id: party.display_name for party in list_parties(session)}
        if not subject:
            return page.render("officer_participant.html", subject="", rows=[], given=[],
                               names=names, error=None)  # fmt: skip
        ask = officer_ask(page, caller, {"subject": subject})
        try:
            found, given = audit_log.subject_access(session, runtime, ask, subject)
        except GatewayError as failure:
            return page.render("officer_participant.html", status=failure.status, subject="",
                               rows=[], given=[], names=names,
                               error=refusal_text(page, failure))  # fmt: skip
    known = frozenset(runtime.catalogue.categories)
    rows = [
        entry_row(page.language, document, names, found.grounds, known)
        for document in found.entries
    ]
    return page.render(
        "officer_participant.html", subject=found.subject_ref, rows=rows, given=given,
        names=names, error=None,
    )  # fmt: skip


@router.get("/export")
def export(
    page: PageDep, export_format: Annotated[Literal["ndjson", "csv"], Query(alias="format")] = "csv"
) -> Response:
    runtime = page.runtime
    given = query_filters(page)
    if _bsn_in_address(given):
        return page.render("message.html", status=400, message=page.text("bsn_in_address"))
    try:
        with transaction(runtime.sessions) as session:
            caller = officer_caller(page, session)
            if caller is None:
                return page.redirect(LOGIN)
            download = audit_log.export(
                session, runtime, officer_ask(page, caller, given), page_filters(given, caller),
                after_seq=0, as_format=export_format,
            )  # fmt: skip
    except GatewayError as failure:
        return page.render(
            "message.html", status=failure.status, message=refusal_text(page, failure)
        )
    return page.finish(
        StreamingResponse(
            download.lines,
            media_type=download.media_type,
            headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
        )
    )

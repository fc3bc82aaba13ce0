"""A participant's consent in the portal: give, narrow, withdraw (after a confirmation page),
its history and its receipt (a page, a PDF, and the signed JSON).

Every change goes through ``gateway.consents.flow``, as the API's does. A form that fails is shown
again on the overview with a sentence beside the field; unticking every box is a withdrawal,
so it leads to the confirmation page that says so.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from consent.errors import ConsentClosed, ConsentNotFound, InvalidConsent
from consent.schemas import ConsentAmendment, ConsentEventView, ConsentTerms, ConsentView
from gateway.consents import flow as consents
from gateway.core.db import transaction
from gateway.errors import GatewayError
from gateway.identity.models import Participant
from gateway.registry.service import list_parties
from gateway.runtime import Runtime
from gateway.web.csrf import CsrfRefused, FormDep, check_csrf
from gateway.web.forms import FormErrors, field_of
from gateway.web.i18n import local_day
from gateway.web.participant_pages import (
    IN_FORCE,
    LOGIN,
    act,
    overview_page,
    own_participant,
    refusal,
    values,
)
from gateway.web.receipts import event_rows, readable_receipt, receipt_pdf
from gateway.web.rendering import Page, PageDep

router = APIRouter(prefix="/portal/consents", include_in_schema=False)

WITHDRAWN_IN_PORTAL = "withdrawn in the participant portal"


class AlreadyGiven(Exception):
    """The same consent is in force already; its id and the day it was given."""

    def __init__(self, consent_id: str, given_on: str) -> None:
        super().__init__(consent_id)
        self.consent_id = consent_id
        self.given_on = given_on


def first(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0].strip()


def grant_errors(page: Page, fields: dict[str, list[str]]) -> dict[str, str]:
    """What is missing from the grant form, before anything is asked of the flow."""
    missing = {}
    if not first(fields, "grantee"):
        missing["grantee"] = page.text("err_grantee_missing")
    if not values(fields, "categories"):
        missing["categories"] = page.text("err_categories_missing")
    return missing


@router.post("")
def grant(page: PageDep, fields: FormDep) -> Response:
    purpose = first(fields, "purpose")
    kept = {"grantee": [first(fields, "grantee")], "categories": values(fields, "categories")}

    def failed(messages: dict[str, str], status: int, link: str | None = None) -> Response:
        errors = FormErrors(form=f"grant-{purpose}", fields=messages, kept=kept, link=link)
        return overview_page(page, errors=errors, status=status)

    try:
        check_csrf(page.session, fields)
    except CsrfRefused as error:
        return refusal(page, error)
    if purpose not in page.runtime.catalogue.purposes:
        return refusal(page, ConsentNotFound(purpose))
    if missing := grant_errors(page, fields):
        return failed(missing, 422)
    try:
        terms = ConsentTerms(
            grantee=kept["grantee"][0], purpose=purpose, categories=kept["categories"]
        )
        with transaction(page.runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            _give_once(page, session, participant, terms)
    except ValidationError as error:
        name = str(error.errors()[0]["loc"][0]) if error.errors() else "general"
        field, key = field_of(InvalidConsent(name, field=name))
        return failed({field: page.text(key)}, 422)
    except InvalidConsent as error:
        field, key = field_of(error)
        return failed({field: page.text(key)}, 422)
    except AlreadyGiven as given:
        message = page.text("err_exists", day=given.given_on)
        return failed({"general": message}, 409, link=f"/portal/consents/{given.consent_id}")
    except GatewayError as error:
        return refusal(page, error)
    return page.redirect("/portal?done=grant")


def _give_once(page: Page, session: Session, participant: Participant, terms: ConsentTerms) -> None:
    existing = consents.already_given(session, page.runtime, participant, terms)
    if existing is not None:
        raise AlreadyGiven(existing.id, local_day(page.language, existing.valid_from))
    consents.give(session, page.runtime, page.trace_id, participant, terms)


@router.post("/{consent_id}/narrow")
def narrow(consent_id: str, page: PageDep, fields: FormDep) -> Response:
    """Fewer categories; none at all is a withdrawal, confirmed on its own page first."""
    kept = values(fields, "categories")
    if not kept:
        try:
            check_csrf(page.session, fields)
        except CsrfRefused as error:
            return refusal(page, error)
        return page.redirect(f"/portal/consents/{consent_id}/revoke?all_unticked=1")

    def amend(session: Session, participant: Participant) -> object:
        return consents.amend(
            session, page.runtime, page.trace_id, participant, consent_id,
            ConsentAmendment(categories=kept),
        )  # fmt: skip

    try:
        return act(page, fields, amend, "narrow")
    except (InvalidConsent, ValidationError):
        errors = FormErrors(
            form=f"narrow-{consent_id}",
            fields={"categories": page.text("err_categories_unknown")},
            kept={"categories": kept},
        )
        return overview_page(page, errors=errors, status=422)


@router.get("/{consent_id}/revoke")
def confirm_withdrawal(
    consent_id: str, page: PageDep, all_unticked: Annotated[int, Query(ge=0, le=1)] = 0
) -> Response:
    """The question before a withdrawal: what it means, yes or no (no script needed)."""
    runtime = page.runtime
    try:
        with transaction(runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            consent = consents.own_consent(session, runtime, participant, consent_id)
            names = {party.id: party.display_name for party in list_parties(session)}
    except ConsentNotFound as error:
        return refusal(page, error)
    if consent.status not in IN_FORCE:
        return refusal(page, ConsentClosed(consent_id))
    return page.render(
        "portal_withdraw.html", consent=consent, names=names, all_unticked=bool(all_unticked)
    )


@router.post("/{consent_id}/revoke")
def revoke(consent_id: str, page: PageDep, fields: FormDep) -> Response:
    def withdraw(session: Session, participant: Participant) -> object:
        return consents.revoke(
            session, page.runtime, page.trace_id, participant, consent_id, WITHDRAWN_IN_PORTAL
        )

    return act(page, fields, withdraw, "revoke")


@router.get("/{consent_id}")
def consent_details(consent_id: str, page: PageDep) -> Response:
    runtime = page.runtime
    try:
        with transaction(runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            consent, events, names = _own_with_history(session, runtime, participant, consent_id)
    except ConsentNotFound as error:
        return refusal(page, error)
    return page.render(
        "portal_consent.html",
        consent=consent,
        history=event_rows(page.language, events, names),
        names=names,
        in_force=consent.status in IN_FORCE,
    )


def _own_with_history(
    session: Session, runtime: Runtime, participant: Participant, consent_id: str
) -> tuple[ConsentView, list[ConsentEventView], dict[str, str]]:
    """The participant's own consent, its history and the parties' names (ConsentNotFound for
    another's or a missing one), as its page and its receipt show them."""
    consent = consents.own_consent(session, runtime, participant, consent_id)
    events = consents.history(session, runtime, participant, consent_id)
    names = {party.id: party.display_name for party in list_parties(session)}
    return consent, events, names


@router.get("/{consent_id}/receipt")
def receipt_page(consent_id: str, page: PageDep) -> Response:
    """The receipt as a page in the participant's language, with the PDF and the signed JSON."""
    return _receipt(consent_id, page, as_format="page")


@router.get("/{consent_id}/receipt.pdf")
def receipt_as_pdf(consent_id: str, page: PageDep) -> Response:
    return _receipt(consent_id, page, as_format="pdf")


@router.get("/{consent_id}/receipt.json")
def receipt_as_json(consent_id: str, page: PageDep) -> Response:
    """The signed receipt (a JWS and its claims): the proof anyone can check."""
    return _receipt(consent_id, page, as_format="json")


def _receipt(consent_id: str, page: Page, *, as_format: str) -> Response:
    runtime = page.runtime
    try:
        with transaction(runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            signed = consents.receipt(session, runtime, participant, consent_id)
            consent, events, names = _own_with_history(session, runtime, participant, consent_id)
    except ConsentNotFound as error:
        return refusal(page, error)
    name = f"schakel-toestemming-{consent_id}"
    if as_format == "json":
        body = json.dumps(signed.model_dump(), indent=2, ensure_ascii=False)
        return _download(page, body.encode("utf-8"), "application/json", f"{name}.json")
    readable = readable_receipt(page.language, consent, events, names, runtime.clock())
    if as_format == "pdf":
        return _download(
            page, receipt_pdf(readable, page.language), "application/pdf", f"{name}.pdf"
        )
    return page.render("portal_receipt.html", consent=consent, receipt=readable)


def _download(page: Page, body: bytes, media_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return page.finish(Response(body, media_type=media_type, headers=headers))

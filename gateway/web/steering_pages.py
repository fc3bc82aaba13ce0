"""The steering group's page under /stuurgroep: the latest stored release of each of the party's
regions as charts (bars per method and outcome, a line per quarter) and tables, each figure's
protection stated, CSV and JSON downloads of the stored release, and a form to ask a new one.

Releases are read as stored and asked through ``gateway.monitoring.flow``, as over the API, so
the policy, the budget and the audit entry are the same. A party logs in (demo only) with the
id of a party holding the regional-statistics role.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from gateway.auth.access_tokens import Caller
from gateway.core.db import transaction
from gateway.errors import GatewayError
from gateway.monitoring import flow, reads
from gateway.monitoring.publish import csv_lines
from gateway.monitoring.schemas import STATISTICS_ROLE, ReleaseRequest
from gateway.registry.models import Party
from gateway.web import party_sessions
from gateway.web.csrf import CsrfRefused, FormDep, check_csrf
from gateway.web.i18n import plain, words
from gateway.web.rendering import Page, PageDep
from gateway.web.steering_chart import method_outcome_bars, quarter_lines
from monitoring import service

router = APIRouter(prefix="/stuurgroep", include_in_schema=False)
LOGIN = "/stuurgroep/login"


def _may_read_releases(_page: Page, party: Party) -> bool:
    return STATISTICS_ROLE in party.roles


PAGES = party_sessions.PartyPages(
    kind="steering", login=LOGIN, home="/stuurgroep",
    may_use=_may_read_releases,
)  # fmt: skip


def steering_caller(page: Page, session: Session) -> Caller | None:
    """The session's party as a caller, while its session is open and it holds the role."""
    return party_sessions.party_caller(page, session, kind="steering", may_use=_may_read_releases)


def _refused(page: Page, error: Exception) -> Response:
    if isinstance(error, CsrfRefused):
        return page.render("message.html", status=403, message=page.text("csrf"))
    if isinstance(error, GatewayError):
        return page.render("message.html", status=error.status, message=error.detail)
    if isinstance(error, ValidationError):
        detail = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'until'}: {item['msg']}"
            for item in error.errors()[:3]
        )
        return page.render("message.html", status=422, message=detail)
    raise error


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
    shown_words = words(page.language)
    shown = []
    with transaction(runtime.sessions) as session:
        caller = steering_caller(page, session)
        if caller is None:
            return page.redirect(LOGIN)
        for region in reads.readable_regions(runtime, caller):
            latest = service.latest_release(session, region=region)
            document = json.loads(latest.document) if latest else None
            budget = reads.budget_of(session, runtime, caller, region, None)
            shown.append(
                _region_view(page, region, document, budget.spent, budget.total, shown_words)
            )
            shown[-1]["older"] = [
                r for r in reads.summaries(session, runtime, caller) if r.region == region
            ][1:6]
    today = runtime.clock().date()
    return page.render(
        "steering_release.html",
        party=caller.party,
        regions=shown,
        default_since=(today - timedelta(days=365)).isoformat(),
        default_until=today.isoformat(),
        done=page.request.query_params.get("done") == "release",
    )


def _region_view(
    page: Page,
    region: str,
    document: dict[str, Any] | None,
    spent: float,
    total: float,
    words: dict[str, str],
) -> dict[str, Any]:
    runtime = page.runtime
    monitoring = runtime.catalogue.monitoring[region]
    view: dict[str, Any] = {
        "id": region, "name": runtime.catalogue.regions[region], "basis": monitoring.basis,
        "agreement": monitoring.agreement, "spent": round(spent, 4), "total": total,
        "release": None, "per_release": monitoring.epsilon_per_release,
    }  # fmt: skip
    if document is None:
        return view

    def label(code: str) -> str:
        municipality = runtime.catalogue.municipalities.get(code)
        if municipality is not None:
            return municipality.name
        obstacle = runtime.catalogue.obstacles.get(code)
        if obstacle is not None:
            return obstacle.label(page.language)
        return monitoring.subregions.get(code) or plain(page.language, code)

    tables = {t["name"]: t for t in document["tables"]}
    view["release"] = document
    view["tables"] = tables
    view["bars"] = method_outcome_bars(tables["method_outcome"], label, words)
    view["lines"] = quarter_lines(tables["quarter_outcome"], label, words)
    view["label"] = label
    dp = document["protection"]["differential_privacy"]
    view["dp"] = dp
    view["accuracy"] = (
        tables["method_outcome"]["noise"]["accuracy_95"]["cell"] if dp is not None else 0
    )
    return view


@router.post("/releases")
def ask_release(page: PageDep, fields: FormDep) -> Response:
    """Ask for a release from the page: the same flow, budget and audit entry as the API."""

    def one(name: str) -> str:
        return (fields.get(name) or [""])[0].strip()

    try:
        check_csrf(page.session, fields)
        request = ReleaseRequest.model_validate(
            {
                "region": one("region"),
                "since": date.fromisoformat(one("since")) if one("since") else None,
                "until": date.fromisoformat(one("until")) if one("until") else None,
                "area": one("area") or "subregion",
                **({"epsilon": float(one("epsilon"))} if one("epsilon") else {}),
            }
        )
        with transaction(page.runtime.sessions) as session:
            caller = steering_caller(page, session)
            if caller is None:
                return page.redirect(LOGIN)
            flow.release(session, page.runtime, page.trace_id, caller, request)
    except ValueError as error:
        if isinstance(error, ValidationError):
            return _refused(page, error)
        return page.render("message.html", status=422, message=str(error))
    except (CsrfRefused, GatewayError) as error:
        return _refused(page, error)
    return page.redirect("/stuurgroep?done=release")


def _stored(page: Page, release_id: str) -> tuple[Caller | None, Any]:
    with transaction(page.runtime.sessions) as session:
        caller = steering_caller(page, session)
        if caller is None:
            return None, None
        return caller, reads.stored_release(session, page.runtime, caller, release_id)


@router.get("/releases/{release_id}.csv")
def download_csv(page: PageDep, release_id: str) -> Response:
    try:
        caller, stored = _stored(page, release_id)
    except GatewayError as error:
        return _refused(page, error)
    if caller is None:
        return page.redirect(LOGIN)
    body = "".join(csv_lines(json.loads(stored.document)))
    return page.finish(
        Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="release-{stored.id}.csv"'},
        )
    )


@router.get("/releases/{release_id}.json")
def download_json(page: PageDep, release_id: str) -> Response:
    try:
        caller, stored = _stored(page, release_id)
    except GatewayError as error:
        return _refused(page, error)
    if caller is None:
        return page.redirect(LOGIN)
    return page.finish(
        Response(
            flow.body(page.runtime, stored),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="release-{stored.id}.json"'},
        )
    )

"""The participant's page on regional monitoring, /portal/monitoring: what the region's releases
count about them, on what ground (their consent, or the region's own agreement), whether they
are counted now, and their objection (GDPR Art. 21), which keeps them out of every later release.

Through ``gateway.monitoring.participant``, as the API: the same policy and audit entries.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from gateway.core.db import transaction
from gateway.errors import GatewayError
from gateway.monitoring import participant as counting
from gateway.web.csrf import CsrfRefused, FormDep, check_csrf
from gateway.web.participant_pages import LOGIN, own_participant, refusal
from gateway.web.rendering import PageDep

router = APIRouter(prefix="/portal/monitoring", include_in_schema=False)

PAGE = "/portal/monitoring"
DONE = {"objected": "done_objected", "lifted": "done_lifted"}


@router.get("")
def monitoring(page: PageDep, done: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    runtime = page.runtime
    with transaction(runtime.sessions) as session:
        participant = own_participant(page, session)
        if participant is None:
            return page.redirect(LOGIN)
        mine = counting.my_counting(session, runtime, participant)
    return page.render("portal_monitoring.html", mine=mine, done=DONE.get(done or ""))


@router.post("/objection")
def objection(page: PageDep, fields: FormDep) -> Response:
    """Object (``objected=yes``) or lift the objection (``objected=no``)."""
    given = (fields.get("objected") or [""])[0]
    try:
        check_csrf(page.session, fields)
        if given not in ("yes", "no"):
            return page.render("message.html", status=422, message=page.text("error"))
        with transaction(page.runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            counting.set_objection(
                session, page.runtime, page.trace_id, participant, objected=given == "yes"
            )
    except (CsrfRefused, GatewayError) as error:
        return refusal(page, error)
    return page.redirect(f"{PAGE}?done={'objected' if given == 'yes' else 'lifted'}")

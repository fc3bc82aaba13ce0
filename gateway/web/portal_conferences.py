"""The participant's conferences under /portal/conferences: which conference they are on, who
comes, what each party would see (as the policy decides it), and their yes or no.

Through ``gateway.conferences.answers``, as the API: the same rules and the same audit entries.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from conference.errors import ConferenceConflict, ConferenceError, ConferenceNotFound
from conference.schemas import Answer
from gateway.conferences import answers
from gateway.core.db import transaction
from gateway.errors import GatewayError
from gateway.web.csrf import CsrfRefused, FormDep, check_csrf
from gateway.web.participant_pages import LOGIN, own_participant, refusal
from gateway.web.rendering import PageDep

router = APIRouter(prefix="/portal/conferences", include_in_schema=False)

PAGE = "/portal/conferences"


@router.get("")
def conferences(
    page: PageDep, done: Annotated[str | None, Query(max_length=16)] = None
) -> Response:
    runtime = page.runtime
    with transaction(runtime.sessions) as session:
        participant = own_participant(page, session)
        if participant is None:
            return page.redirect(LOGIN)
        mine = answers.my_conferences(session, runtime, participant)
    return page.render(
        "portal_conferences.html",
        conferences=mine,
        regions=runtime.catalogue.regions,
        done="done_answer" if done == "answer" else None,
    )


@router.post("/{conference_id}/answer")
def answer(conference_id: str, page: PageDep, fields: FormDep) -> Response:
    given = (fields.get("answer") or [""])[0]
    try:
        check_csrf(page.session, fields)
        if given not in {choice.value for choice in Answer}:
            return page.render("message.html", status=422, message=page.text("error"))
        with transaction(page.runtime.sessions) as session:
            participant = own_participant(page, session)
            if participant is None:
                return page.redirect(LOGIN)
            answers.answer_as_participant(
                session, page.runtime, page.trace_id, participant, conference_id, Answer(given)
            )
    except (CsrfRefused, GatewayError) as error:
        return refusal(page, error)
    except ConferenceError as error:
        return page.render("message.html", status=conference_status(error), message=str(error))
    return page.redirect(f"{PAGE}?done=answer")


def conference_status(error: ConferenceError) -> int:
    """The API's status of a conference error, for a page."""
    if isinstance(error, ConferenceNotFound):
        return 404
    return 409 if isinstance(error, ConferenceConflict) else 422

"""CSRF protection: every form carries the session's token, checked in constant time.

A synchroniser token bound to the signed session cookie (OWASP CSRF cheat sheet); SameSite on the
cookie is the second line. A login form gets an anonymous session first, so it has a token too.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request

from gateway.web.sessions import WebSession

FIELD = "csrf_token"
MAX_FORM_BYTES = 16_384


class CsrfRefused(Exception):
    """The form's token is missing or not the session's."""


async def form_fields(request: Request) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body (the only kind the pages post)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


FormDep = Annotated[dict[str, list[str]], Depends(form_fields)]


def check_csrf(session: WebSession | None, fields: dict[str, list[str]]) -> None:
    given = (fields.get(FIELD) or [""])[0]
    if session is None or not given or not hmac.compare_digest(given, session.csrf):
        raise CsrfRefused("the form's security token is missing or out of date")

"""Rendering pages: one Jinja2 environment, security headers on every page, cookies set here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from gateway.deps import RuntimeDep
from gateway.runtime import Runtime
from gateway.web.csrf import FIELD
from gateway.web.i18n import (
    choose_language,
    local_day,
    local_time,
    plain,
    translator,
    utc_time,
    why_needed,
    words,
)
from gateway.web.sessions import COOKIE, SessionCodec, WebSession

LANGUAGE_COOKIE = "schakel_lang"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Web:
    """What the pages share for the life of the app: templates and the session codec."""

    templates: Environment
    sessions: SessionCodec
    secure_cookies: bool


def build_web(runtime: Runtime) -> Web:
    templates = Environment(
        loader=PackageLoader("gateway.web", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Web(
        templates=templates,
        sessions=SessionCodec(
            runtime.session_key,
            runtime.clock,
            lifetime=timedelta(minutes=runtime.settings.web_session_absolute_minutes),
        ),
        secure_cookies=runtime.settings.public_url.startswith("https://"),
    )


@dataclass
class Page:
    """One request's view of the web: who is logged in, in which language."""

    request: Request
    runtime: Runtime
    web: Web
    language: str
    session: WebSession | None
    new_session: WebSession | None = field(default=None)

    def form_session(self) -> WebSession:
        """The session whose CSRF token the page's forms carry; an anonymous one if needed."""
        if self.session is None:
            self.session = self.new_session = self.web.sessions.anonymous()
        return self.session

    def start(self, session: WebSession) -> None:
        """Sign in (or out): a fresh session, with a fresh CSRF token, replaces the old one."""
        self.session = self.new_session = session

    def sign_out(self) -> None:
        """The cookie becomes anonymous; the caller ends the server-side record."""
        self.start(self.web.sessions.anonymous())

    @property
    def trace_id(self) -> str | None:
        """The request's W3C trace id, for the audit entries a page's action writes."""
        trace_id: str | None = getattr(self.request.state, "trace_id", None)
        return trace_id

    def text(self, key: str, **values: str) -> str:
        return translator(self.language)(key, **values)

    def render(self, template: str, *, status: int = 200, **context: Any) -> Response:
        csrf = self.form_session().csrf
        html = self.web.templates.get_template(template).render(
            t=translator(self.language),
            label=lambda name: plain(self.language, name),
            labels=lambda names: ", ".join(plain(self.language, name) for name in names),
            when=lambda moment: local_time(self.language, moment),
            day=lambda moment: local_day(self.language, moment),
            utc=utc_time,
            has=lambda key: key in words(self.language),
            why=lambda purpose, category: why_needed(self.language, purpose, category),
            lang=self.language,
            other_lang="en" if self.language == "nl" else "nl",
            path=self.request.url.path,
            csrf_field=FIELD,
            csrf_token=csrf,
            logged_in=self.session is not None and self.session.kind != "anonymous",
            **context,
        )
        return self.finish(HTMLResponse(html, status_code=status))

    def redirect(self, url: str) -> Response:
        return self.finish(RedirectResponse(url, status_code=303))

    def finish(self, response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if self.new_session is not None:
            response.set_cookie(
                COOKIE,
                self.web.sessions.encode(self.new_session),
                max_age=max(0, self.new_session.expires - int(self.runtime.clock().timestamp())),
                path="/",
                secure=self.web.secure_cookies,
                httponly=True,
                samesite="strict",
            )
        asked = self.request.query_params.get("lang")
        if asked == self.language:
            response.set_cookie(
                LANGUAGE_COOKIE, asked, path="/", secure=self.web.secure_cookies,
                httponly=True, samesite="lax",
            )  # fmt: skip
        return response


async def get_page(request: Request, runtime: RuntimeDep) -> Page:
    """Pure (a cookie is decoded, nothing is read): async, so it costs no thread-pool trip."""
    web: Web = request.app.state.web
    language = choose_language(
        request.query_params.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language", ""),
    )
    session = web.sessions.decode(request.cookies.get(COOKIE))
    return Page(request=request, runtime=runtime, web=web, language=language, session=session)


PageDep = Annotated[Page, Depends(get_page)]

"""Mounting the web pages: the landing page, the portal, officer and chair routers, the stylesheet.

Every page that answers GET answers HEAD too (RFC 9110 §9.3.2): link checkers and monitors ask
with HEAD, and the server sends the same headers without the body.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from fastapi.routing import APIRoute

from gateway.runtime import Runtime
from gateway.web import (
    chair_pages,
    consent_pages,
    officer_pages,
    participant_pages,
    portal_conferences,
    portal_monitoring,
    steering_pages,
)
from gateway.web.rendering import SECURITY_HEADERS, PageDep, build_web

STYLESHEET = "/web/static/schakel.css"

static_router = APIRouter(include_in_schema=False)


@static_router.get(STYLESHEET)
def stylesheet() -> Response:
    css = files("gateway.web").joinpath("static/schakel.css").read_bytes()
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
    return Response(css, media_type="text/css", headers=headers)


@static_router.get("/")
def landing(page: PageDep) -> Response:
    """The way in: the portal, the officer's dashboard and the API documentation."""
    return page.render("landing.html")


def answering_head(router: APIRouter) -> APIRouter:
    """The router with HEAD added beside every GET."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.methods and "GET" in route.methods:
            route.methods.add("HEAD")
    return router


def install_web_pages(app: FastAPI, runtime: Runtime) -> None:
    """The landing page (/), the participant portal (/portal, its conferences at
    /portal/conferences), the officer's dashboard (/officer), the chair's pages (/chair) and the
    steering group's monitoring (/stuurgroep)."""
    app.state.web = build_web(runtime)
    for router in (
        static_router,
        participant_pages.router,
        consent_pages.router,
        officer_pages.router,
        portal_conferences.router,
        chair_pages.router,
        portal_monitoring.router,
        steering_pages.router,
    ):
        app.include_router(answering_head(router))

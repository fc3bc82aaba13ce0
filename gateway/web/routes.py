"""Mounting the web pages: the portal and officer routers, and the one stylesheet they use."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response

from gateway.runtime import Runtime
from gateway.web import (
    chair_pages,
    officer_pages,
    participant_pages,
    portal_conferences,
    steering_pages,
)
from gateway.web.rendering import SECURITY_HEADERS, build_web

STYLESHEET = "/web/static/schakel.css"

static_router = APIRouter(include_in_schema=False)


@static_router.get(STYLESHEET)
def stylesheet() -> Response:
    css = files("gateway.web").joinpath("static/schakel.css").read_bytes()
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
    return Response(css, media_type="text/css", headers=headers)


def install_web_pages(app: FastAPI, runtime: Runtime) -> None:
    """The participant portal (/portal), the privacy-officer dashboard (/officer), the
    chair's conference pages (/chair) and the steering group's monitoring (/stuurgroep)."""
    app.state.web = build_web(runtime)
    app.include_router(static_router)
    app.include_router(participant_pages.router)
    app.include_router(officer_pages.router)
    app.include_router(portal_conferences.router)
    app.include_router(chair_pages.router)
    app.include_router(steering_pages.router)

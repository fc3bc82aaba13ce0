"""ASGI middleware: trace context and access log on every request, and a cap on body size."""

from __future__ import annotations

import time

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.metrics import Metrics
from gateway.core.tracing import continue_trace
from gateway.problems import problem_response

access_log = structlog.get_logger("gateway.access")


class TraceMiddleware:
    """Bind the W3C trace id to the logs and answer with a ``traceparent`` of our own span and
    the ``API-Version`` (NL GOV API Design Rules, /core/version-header); log and measure every
    request (by route template, never by the path with its ids)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, api_version: str) -> None:
        self.app = app
        self.metrics = metrics
        self.api_version = api_version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace = continue_trace(Headers(scope=scope).get("traceparent"))
        scope.setdefault("state", {})["trace_id"] = trace.trace_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(trace_id=trace.trace_id, span_id=trace.span_id)
        started = time.perf_counter()
        status = 500

        async def send_with_trace(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["traceparent"] = trace.traceparent
                headers["API-Version"] = self.api_version
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            elapsed = time.perf_counter() - started
            access_log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )
            route = scope.get("route")
            self.metrics.requests.labels(
                scope["method"], getattr(route, "path", "unmatched"), f"{status // 100}xx"
            ).observe(elapsed)
            structlog.contextvars.clear_contextvars()


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit with 413 before any handler reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            slug="payload-too-large",
            title="Payload too large",
            detail=f"the request body exceeds {self.max_bytes} bytes",
            request=Request(scope, receive),
        )
        await response(scope, receive, send)


class BodyTooLarge(Exception):
    """Raised inside a request whose streamed body grew past the limit."""

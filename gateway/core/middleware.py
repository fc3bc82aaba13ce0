"""ASGI middleware: trace context and access log on every request, a cap on body size, and no
NUL characters in a JSON body's text."""

from __future__ import annotations

import json
import time

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.metrics import Metrics
from gateway.core.tracing import continue_trace
from gateway.errors import InvalidInput, PayloadTooLarge
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
                    raise PayloadTooLarge(self._detail)  # a handler reading it answers 413
            return message

        try:
            await self.app(scope, counting_receive, send)
        except PayloadTooLarge:
            await self._too_large(scope, receive, send)

    @property
    def _detail(self) -> str:
        return f"the request body exceeds {self.max_bytes} bytes"

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            slug=PayloadTooLarge.slug,
            title=PayloadTooLarge.title,
            detail=self._detail,
            request=Request(scope, receive),
        )
        await response(scope, receive, send)


class JsonTextGuardMiddleware:
    """Refuse a JSON body whose text holds a NUL character, naming where, before any handler.

    PostgreSQL cannot store NUL in text and SQLite would keep it silently; no field of the API
    has a use for it. JSON can only carry it escaped, so the body is searched for the escape
    and parsed only when it is there (a backslash escaped before ``u0000`` is not a NUL).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(Headers(scope=scope).get("content-type")):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        message = await receive()
        while message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
            message = await receive()
        body = b"".join(chunks)
        pointer = nul_pointer(body) if _NUL_ESCAPE in body else None
        if pointer is not None:
            detail = "text must not contain the NUL character (\\u0000)"
            response = problem_response(
                InvalidInput.status,  # a rule beyond the document's schema, which allows any text
                slug=InvalidInput.slug,
                title=InvalidInput.title,
                detail=f"{pointer}: {detail}",
                request=Request(scope),
                errors=[{"pointer": pointer, "detail": detail}],
            )
            await response(scope, receive, send)
            return
        if message["type"] == "http.request":
            message = {"type": "http.request", "body": body, "more_body": False}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return message

        await self.app(scope, replay, send)


_NUL_ESCAPE = b"\\u0000"


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def nul_pointer(body: bytes) -> str | None:
    """The JSON pointer (RFC 6901) of a key or string in ``body`` holding NUL, if any;
    None for a body that is no JSON (its handler refuses it as such). Parsed as the handlers
    parse it (the standard library's parser, which also takes lone surrogates), and walked
    without recursion, however deep it nests."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    pending: list[tuple[str, object]] = [("#", document)]
    while pending:
        pointer, value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return pointer
        elif isinstance(value, dict):
            members = []
            for key, item in value.items():
                inner = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
                if "\x00" in key:
                    return inner
                members.append((inner, item))
            pending.extend(reversed(members))  # document order: the first member is next
        elif isinstance(value, list):
            pending.extend(reversed([(f"{pointer}/{i}", item) for i, item in enumerate(value)]))
    return None

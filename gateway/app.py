"""The FastAPI application factory: the only place where routers, middleware and engines meet."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from gateway import health
from gateway.audit_log import api as audit_log_api
from gateway.audit_log.checkpointer import CheckpointTimer
from gateway.auth import api as auth_api
from gateway.conferences import api as conferences_api
from gateway.consents import api as consents_api
from gateway.contributions import api as contributions_api
from gateway.core.middleware import (
    BodySizeLimitMiddleware,
    JsonTextGuardMiddleware,
    TraceMiddleware,
)
from gateway.core.periodic import Periodic
from gateway.demo import api as demo_api
from gateway.disclosures import api as disclosures_api
from gateway.health import serve_metrics
from gateway.monitoring import api as monitoring_api
from gateway.notices import api as notices_api
from gateway.notices.flow import record_webhook_delivery, sweep
from gateway.openapi import API_VERSION, install_openapi
from gateway.plans import api as plans_api
from gateway.policy import api as policy_api
from gateway.problems import install_problem_handlers
from gateway.runtime import Runtime
from gateway.signals import api as signals_api
from gateway.signals import webhooks_api
from gateway.signals.webhooks import WebhookWorker
from gateway.web.routes import install_web_pages
from plan.outbox import DEAD, DELIVERED, PENDING

DELIVERY_RESULT = {DELIVERED: "delivered", PENDING: "retrying", DEAD: "dead"}

DESCRIPTION = """
Schakel lets GGZ providers, UWV and municipalities exchange the minimum of case data a participant
consented to, for one purpose, with every disclosure and denial in a tamper-evident audit log.

Partner systems authenticate with OAuth 2.0 client credentials and `private_key_jwt` (RFC 7523):
sign a client assertion with your registered key, post it to `/oauth/token`, and send the access
token as `Authorization: Bearer …`. Errors are RFC 9457 `application/problem+json`.

The API follows the NL GOV API Design Rules 2.2; every response names its version in the
`API-Version` header, and query parameters are camelCase.
"""


def create_app(runtime: Runtime) -> FastAPI:
    """Wire a gateway around an already built runtime (settings, database, keys, policy engine)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Sync handlers run on anyio's thread pool: bound it, since every thread that decides
        # builds a policy engine of its own.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = runtime.settings.worker_threads
        worker = None
        if runtime.settings.webhook_interval_seconds > 0:
            deliveries = runtime.metrics.webhook_deliveries
            worker = WebhookWorker(
                sessions=runtime.sessions, keks=runtime.keks, clock=runtime.clock,
                settings=runtime.settings,
                on_outcome=lambda status: deliveries.labels(DELIVERY_RESULT[status]).inc(),
                on_delivered=lambda session, message: record_webhook_delivery(
                    session, runtime.trail, message.event_type, message.payload
                ),
            )  # fmt: skip
            worker.start()
        checkpoints = None
        if runtime.settings.audit_checkpoint_interval_seconds > 0:
            checkpoints = CheckpointTimer(
                sessions=runtime.sessions, trail=runtime.trail,
                interval=runtime.settings.audit_checkpoint_interval_seconds,
                witnesses=runtime.settings.audit_witnesses,
            )  # fmt: skip
            checkpoints.start()
        metrics_server = serve_metrics(runtime)
        sweeper = None
        if runtime.settings.notice_sweep_seconds > 0:
            sweeper = Periodic(
                "notice-sweeper", runtime.settings.notice_sweep_seconds, lambda: sweep(runtime)
            )
            sweeper.start()
        # What start-up loaded (modules, models, routes) lives as long as the process. Out of
        # the collector's sight, a full collection no longer walks it, a walk that paused every
        # request under load (docs/performance.md).
        gc.collect()
        gc.freeze()
        yield
        if worker is not None:
            worker.stop()
        if checkpoints is not None:
            checkpoints.stop()
        if metrics_server is not None:
            metrics_server.stop()
        if sweeper is not None:
            sweeper.stop()
        runtime.close()

    settings = runtime.settings
    app = FastAPI(
        title="Schakel",
        version=API_VERSION,
        summary="Privacy-preserving data exchange for the Dutch social domain",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.add_middleware(JsonTextGuardMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(TraceMiddleware, metrics=runtime.metrics, api_version=API_VERSION)
    # Routers are tried in this order on every request, each matching its routes in turn:
    # disclosures, the busiest path, first.
    app.include_router(disclosures_api.router)
    app.include_router(health.router)
    app.include_router(auth_api.router)
    app.include_router(audit_log_api.router)
    app.include_router(audit_log_api.participant_router)
    app.include_router(consents_api.participant_router)
    app.include_router(consents_api.partner_router)
    if runtime.settings.demo_login:
        app.include_router(demo_api.router)
    app.include_router(policy_api.router)
    app.include_router(contributions_api.router)
    app.include_router(plans_api.participant_router)
    app.include_router(plans_api.partner_router)
    app.include_router(signals_api.participant_router)
    app.include_router(signals_api.partner_router)
    app.include_router(notices_api.router)
    app.include_router(notices_api.participant_router)
    app.include_router(webhooks_api.router)
    app.include_router(webhooks_api.operator_router)
    app.include_router(conferences_api.router)
    app.include_router(conferences_api.register_router)
    app.include_router(conferences_api.participant_router)
    app.include_router(monitoring_api.router)
    app.include_router(monitoring_api.participant_router)
    install_web_pages(app, runtime)
    install_openapi(
        app,
        public_url=settings.public_url,
        contact={
            "name": settings.api_contact_name,
            "email": settings.api_contact_email,
            "url": settings.api_contact_url,
        },
    )
    return app

"""Prometheus metrics (the text exposition format), in a registry of the runtime's own.

What an operator needs to see trouble coming: request latency, disclosures by outcome, the
batch writer's queue and batch sizes, policy-engine errors and time-outs, audit appends and the
age of the newest checkpoint, webhook deliveries and dead letters. Labels hold only fixed
vocabularies (route templates, outcomes, engine names, error kinds, actions): never a
participant, a pseudonym, a party or anything secret.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DECISION_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.25, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class Metrics:
    """Every series the gateway exports; each part of it records into its own instrument."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Histogram(
            "schakel_http_request_duration_seconds",
            "Time from request to response, by method, route template and status class",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.disclosures = Counter(
            "schakel_disclosures_total",
            "Disclosure requests answered, by outcome (disclose, deny, refused, unavailable, failed)",
            ["outcome"], registry=registry,
        )  # fmt: skip
        self.writer_batches = Histogram(
            "schakel_writer_batch_size", "Units of work committed together by the batch writer",
            buckets=BATCH_BUCKETS, registry=registry,
        )  # fmt: skip
        self.writer_queue = Gauge(
            "schakel_writer_queue_depth", "Units of work waiting for the batch writer",
            registry=registry,
        )  # fmt: skip
        self.decisions = Histogram(
            "schakel_policy_decision_seconds", "Time for one policy decision, by engine",
            ["engine"], buckets=DECISION_BUCKETS, registry=registry,
        )  # fmt: skip
        self.policy_errors = Counter(
            "schakel_policy_engine_errors_total",
            "Decisions the engine could not make, by engine and kind (timeout, unreachable, ...)",
            ["engine", "kind"], registry=registry,
        )  # fmt: skip
        self.audit_appends = Counter(
            "schakel_audit_appends_total", "Audit entries appended, by action",
            ["action"], registry=registry,
        )  # fmt: skip
        self.checkpoint_age = Gauge(
            "schakel_audit_checkpoint_age_seconds",
            "Seconds since the newest signed checkpoint (-1 before the first)", registry=registry,
        )  # fmt: skip
        self.webhook_deliveries = Counter(
            "schakel_webhook_deliveries_total",
            "Webhook delivery attempts, by result (delivered, retrying, dead)",
            ["result"], registry=registry,
        )  # fmt: skip
        self.webhook_dead_letters = Gauge(
            "schakel_webhook_dead_letters", "Webhook messages given up on, waiting for an operator",
            registry=registry,
        )  # fmt: skip

    def measure_at_scrape(
        self,
        *,
        writer_queue: Callable[[], float],
        checkpoint_age: Callable[[], float],
        dead_letters: Callable[[], float],
    ) -> None:
        """Gauges read when Prometheus asks, not kept up to date on the request path."""
        self.writer_queue.set_function(writer_queue)
        self.checkpoint_age.set_function(checkpoint_age)
        self.webhook_dead_letters.set_function(dead_letters)


class MetricsServer:
    """``/metrics`` on a port of its own, apart from the API (operators scrape it)."""

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        self._server: WSGIServer
        self._thread: threading.Thread
        self._server, self._thread = start_http_server(port, addr=host, registry=metrics.registry)

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

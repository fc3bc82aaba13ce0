"""`/metrics` on a port of its own, in the Prometheus text format, with the series operators
watch; no participant, pseudonym or party in any label."""

from __future__ import annotations

import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.settings import Settings
from tests.disclosures.world import SAM, running_world
from tests.support import free_port

SERIES = {
    "schakel_http_request_duration_seconds",
    "schakel_disclosures",
    "schakel_writer_batch_size",
    "schakel_writer_queue_depth",
    "schakel_policy_decision_seconds",
    "schakel_policy_engine_errors",
    "schakel_audit_appends",
    "schakel_audit_checkpoint_age_seconds",
    "schakel_webhook_deliveries",
    "schakel_webhook_dead_letters",
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_metrics_show_disclosures_latency_writer_and_audit_without_identities(
    settings: Settings,
) -> None:
    port = free_port()
    with running_world(settings.model_copy(update={"metrics_port": port})) as world:
        world.contribute(SAM, "care.involvement")
        world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
        assert world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"]).json()[
            "disclosed"
        ]
        assert (
            world.disclose("uwv-leiden", SAM, "reintegration", ["work.capacity"]).status_code == 200
        )
        response = httpx.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    assert set(families) >= SERIES
    outcomes = {
        sample.labels["outcome"]: sample.value
        for sample in families["schakel_disclosures"].samples
        if sample.name == "schakel_disclosures_total"
    }
    assert outcomes == {"disclose": 1.0, "deny": 1.0}
    routes = {
        sample.labels.get("route")
        for sample in families["schakel_http_request_duration_seconds"].samples
    }
    assert "/v1/disclosures" in routes
    assert any(
        sample.labels.get("action") == "disclose" and sample.value == 1.0
        for sample in families["schakel_audit_appends"].samples
    )
    assert SAM not in response.text and "uwv-leiden" not in response.text
    assert re.search(r"[0-9a-f]{64}", response.text) is None  # no pseudonym

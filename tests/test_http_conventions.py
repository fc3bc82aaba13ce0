"""Problem details (RFC 9457), trace context (W3C), body limits and health probes on the real app."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import structlog
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from gateway.core.logs import configure_logging
from gateway.core.tracing import continue_trace
from gateway.settings import Settings
from tests.support import SettableClock, running_gateway

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: str
    categories: list[str] = Field(min_length=1)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with running_gateway(settings, SettableClock()) as (_runtime, test_client):
        app = test_client.app

        @app.post("/test/probe")  # type: ignore[attr-defined, untyped-decorator]
        def probe(body: Probe) -> dict[str, str]:
            return {"ok": body.purpose}

        @app.get("/test/boom")  # type: ignore[attr-defined, untyped-decorator]
        def boom() -> None:
            raise RuntimeError("secret internal detail")

        yield test_client


def test_unknown_route_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["type"].startswith("https://")


def test_validation_error_points_at_each_offending_field(client: TestClient) -> None:
    response = client.post("/test/probe", json={"categories": [], "colour": "red"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert pointers == {"#/purpose", "#/categories", "#/colour"}


def test_malformed_json_is_a_400_problem(client: TestClient) -> None:
    response = client.post(
        "/test/probe", content=b'{"purpose": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["title"] == "Malformed JSON"


def test_unexpected_error_leaks_no_stack_trace(client: TestClient) -> None:
    response = client.get("/test/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


def test_oversized_body_is_refused_with_413(client: TestClient) -> None:
    response = client.post(
        "/test/probe",
        content=b"{" + b" " * (1024 * 1024 + 1) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_an_oversized_body_sent_in_chunks_is_refused_with_413(client: TestClient) -> None:
    """No Content-Length to refuse it by: the limit is met while the body is read."""
    chunks = iter([b'{"purpose": "', b"x" * (1024 * 1024), b'"}'])
    response = client.post(
        "/test/probe", content=chunks, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.json()["detail"].startswith("the request body exceeds")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (b'{"purpose": "re\\u0000integration", "categories": ["a"]}', "#/purpose"),
        (b'{"purpose": "x", "categories": ["a", "\\u0000"]}', "#/categories/1"),
        (b'{"purpose": "x", "categories": ["a"], "a/b\\u0000": 1}', "#/a~1b\x00"),
        (b'{"purpose": "\\ud800\\u0000", "categories": ["a"]}', "#/purpose"),  # lone surrogate
    ],
)
def test_a_nul_character_in_json_text_is_refused_with_its_pointer(
    client: TestClient, body: bytes, pointer: str
) -> None:
    """PostgreSQL cannot store NUL in text, SQLite would keep it: refused before any handler."""
    response = client.post(
        "/test/probe", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"pointer": pointer, "detail": "text must not contain the NUL character (\\u0000)"}
    ]


def test_a_nul_nested_deeper_than_the_parser_goes_is_refused_not_a_500(
    client: TestClient,
) -> None:
    depth = 5000
    body = b'{"purpose": ' + b"[" * depth + b'"\\u0000"' + b"]" * depth + b"}"
    response = client.post(
        "/test/probe", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code in {400, 422}, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_an_escaped_backslash_before_u0000_is_no_nul(client: TestClient) -> None:
    body = b'{"purpose": "C:\\\\u0000", "categories": ["a"]}'
    response = client.post(
        "/test/probe", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": "C:\\u0000"}


def test_caller_trace_id_is_kept_and_propagated(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    traceparent = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
    response = client.get("/nowhere", headers={"traceparent": traceparent})
    returned = response.headers["traceparent"]
    assert returned.split("-")[1] == CALLER_TRACE
    assert returned.split("-")[2] != "00f067aa0ba902b7"
    assert response.json()["trace_id"] == CALLER_TRACE


def test_invalid_traceparent_starts_a_new_trace() -> None:
    for header in (
        "garbage",
        f"ff-{CALLER_TRACE}-00f067aa0ba902b7-01",
        f"00-{'0' * 32}-00f067aa0ba902b7-01",
    ):
        assert continue_trace(header).trace_id != CALLER_TRACE
    assert len(continue_trace(None).trace_id) == 32


def test_access_log_line_is_json_with_the_trace_id(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging()
    try:
        client.get("/healthz", headers={"traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"})
    finally:
        logging.getLogger().handlers.clear()  # the handler holds capsys's stream
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    access = [
        line for line in lines if line.get("event") == "request" and line["path"] == "/healthz"
    ]
    assert access and access[-1]["trace_id"] == CALLER_TRACE
    assert access[-1]["status"] == 200


def test_log_lines_below_the_level_are_dropped_and_secrets_never_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("warning")
    try:
        gateway_log = structlog.get_logger("gateway.test")
        gateway_log.info("gateway quiet")
        gateway_log.warning("gateway loud", bsn="123456782", note="BSN 123456782 in a text")
        logging.getLogger("uvicorn.error").info("library quiet")
        logging.getLogger("uvicorn.error").warning("library %s", "loud")
    finally:
        configure_logging()
        logging.getLogger().handlers.clear()
    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines] == ["gateway loud", "library loud"]
    assert lines[0]["bsn"] == "[redacted]"
    assert "123456782" not in output
    assert all(line["level"] == "warning" and "timestamp" in line for line in lines)


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "audit_guards": "ok", "policy_engine": "ok"}
    assert ready.json()["policy_revision"].startswith("sha256:")


def test_openapi_documents_the_token_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/oauth/token" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_the_readme_lists_every_operation_of_the_api(settings: Settings) -> None:
    with running_gateway(settings.model_copy(update={"demo_login": True}), SettableClock()) as (
        _runtime,
        client,
    ):
        spec = client.get("/openapi.json").json()
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    table = readme.split("## API overview", 1)[1].split("\n## ", 1)[0]
    missing = [
        f"{method.upper()} {full_path}"
        for full_path, operations in _full_paths(spec).items()
        for method in operations
        if method != "servers" and f"{method.upper()} {full_path}`" not in table
    ]
    assert missing == []


def _full_paths(spec: dict[str, Any]) -> dict[str, Any]:
    """Each path as a client calls it: its (or the document's) server's path before it."""
    return {
        urlsplit((item.get("servers") or spec["servers"])[0]["url"]).path.rstrip("/") + path: item
        for path, item in spec["paths"].items()
    }


def test_openapi_paths_under_v1_are_relative_to_a_server_naming_the_major_version(
    client: TestClient,
) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["servers"] == [{"url": "http://testserver/v1"}]
    assert spec["paths"]["/oauth/token"]["servers"] == [{"url": "http://testserver"}]
    assert client.post("/v1/disclosures", json={}).status_code in {400, 401}
    assert "/disclosures" in spec["paths"] and "/v1/disclosures" not in spec["paths"]


def test_every_response_names_the_api_version(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.get("/nowhere"), client.get("/openapi.json")):
        assert response.headers["API-Version"] == "1.0.0"


def test_every_error_is_documented_as_a_problem(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    errors = [
        response["content"]
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method != "servers"
        for status, response in operation["responses"].items()
        if int(status) >= 400
    ]
    assert errors and all(
        content
        == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for content in errors
    )
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_a_json_body_of_another_media_type_is_a_415(client: TestClient) -> None:
    response = client.post(
        "/test/probe", content=b"purpose=x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


def test_a_method_not_allowed_names_every_method_of_the_path(client: TestClient) -> None:
    response = client.request("PATCH", "/v1/me/consents")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"


def test_a_literal_path_names_its_own_methods_not_those_of_a_template_it_also_matches(
    client: TestClient,
) -> None:
    for method in ("OPTIONS", "DELETE"):
        response = client.request(method, "/v1/signals/feed")
        assert response.status_code == 405, method
        assert response.headers["Allow"] == "GET"

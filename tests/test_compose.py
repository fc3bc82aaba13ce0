"""docker-compose.yml is checked as data (no Docker engine runs here); OPA's part runs on the local binary."""

from __future__ import annotations

import re
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.policy.opa_process import find_opa_binary, free_port

ROOT = Path(__file__).resolve().parents[1]
INTERPOLATION = re.compile(r"^\$\{[A-Z_]+(:\?[^}]*)?\}$")
SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN_SIGNING_KEY$|PRIVATE", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_services_are_gateway_postgres_opa_and_a_migration_job(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"gateway", "migrate", "postgres", "opa"}


def test_every_image_is_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"
        assert re.match(r"^\d+\.\d+", tag), f"{name}: {image} needs an exact version"


def test_long_running_services_have_health_checks(compose: dict[str, Any]) -> None:
    for name in ("gateway", "postgres", "opa"):
        check = compose["services"][name]["healthcheck"]["test"]
        assert check[0] == "CMD" and len(check) > 1, name
    assert "/readyz" in " ".join(compose["services"]["gateway"]["healthcheck"]["test"])


def test_no_secret_is_written_into_the_file(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            text = str(value)
            if SECRETISH.search(key):
                assert INTERPOLATION.match(text), f"{name}: {key} must come from the environment"
            if "://" in text and "@" in text:
                credentials = text.split("://", 1)[1].split("@", 1)[0]
                password = credentials.partition(":")[2]
                assert INTERPOLATION.match(password), f"{name}: {key} embeds a password"
    assert compose["secrets"]["token_signing_key"]["file"].startswith("./secrets/")


def test_opa_serves_the_mounted_policies(compose: dict[str, Any]) -> None:
    opa = compose["services"]["opa"]
    assert "./policies:/policies:ro" in opa["volumes"]
    assert opa["command"][-2:] == ["--bundle", "/policies"]
    assert "--addr=0.0.0.0:8181" in opa["command"]


def test_opa_runs_the_release_image_of_the_tested_version(compose: dict[str, Any]) -> None:
    image = compose["services"]["opa"]["image"]
    tested = re.search(
        r'^OPA_VERSION="v([^"]+)"', (ROOT / "scripts" / "services.sh").read_text(), re.M
    )
    assert tested is not None
    assert image in {f"openpolicyagent/opa:{tested[1]}", f"openpolicyagent/opa:{tested[1]}-static"}


def test_opa_health_check_needs_nothing_but_the_opa_binary(compose: dict[str, Any]) -> None:
    check = compose["services"]["opa"]["healthcheck"]["test"]
    assert check[:3] == ["CMD", "/opa", "eval"]


def test_opa_with_the_compose_flags_serves_no_rego_tests_and_passes_its_health_check(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    binary = find_opa_binary()
    port = free_port()
    opa = compose["services"]["opa"]
    command = [
        {
            "--addr=0.0.0.0:8181": f"--addr=127.0.0.1:{port}",
            "/policies": str(ROOT / "policies"),
        }.get(argument, argument)
        for argument in opa["command"]
    ]
    health = [
        argument.replace("127.0.0.1:8181", f"127.0.0.1:{port}")
        for argument in [binary, *opa["healthcheck"]["test"][2:]]
    ]
    with (tmp_path / "opa.log").open("wb") as log:
        server = subprocess.Popen([binary, *command], stdout=log, stderr=subprocess.STDOUT)
    try:
        policies = _served_policy_ids(f"http://127.0.0.1:{port}")
        assert policies and not [p for p in policies if p.endswith("_test.rego")], policies
        assert subprocess.run(health, capture_output=True, timeout=30).returncode == 0
    finally:
        server.kill()
        server.wait(timeout=10)
    assert subprocess.run(health, capture_output=True, timeout=30).returncode != 0


def _served_policy_ids(url: str, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/v1/policies", timeout=0.5)
            if response.status_code == 200:
                return [str(policy["id"]) for policy in response.json()["result"]]
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(0.05)
    raise AssertionError(f"OPA did not answer on {url}")


def test_gateway_uses_postgres_and_opa_and_waits_for_them(compose: dict[str, Any]) -> None:
    gateway = compose["services"]["gateway"]
    assert gateway["environment"]["SCHAKEL_POLICY_ENGINE"] == "opa"
    assert gateway["environment"]["SCHAKEL_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert gateway["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert gateway["depends_on"]["opa"]["condition"] == "service_healthy"


def test_every_environment_key_is_a_known_setting(compose: dict[str, Any]) -> None:
    from gateway.settings import unknown_environment_keys

    environment = compose["services"]["gateway"]["environment"]
    assert unknown_environment_keys(environment) == []


def test_dockerfile_runs_as_an_unprivileged_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11\.\d+-slim", dockerfile, re.MULTILINE)
    assert "\nUSER schakel\n" in dockerfile


def test_the_image_copies_every_package_the_project_installs() -> None:
    """``pip install .`` in the image finds only what was copied: a package left out is an
    image that fails at its first import."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.removesuffix("*") for pattern in included}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    assert packages <= copied, f"not copied into the image: {sorted(packages - copied)}"

"""Fixtures for the policy engines: the bundle, an embedded engine, OPA servers, editable policies."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.policy.bundle import DEFAULT_POLICY_DIR, PolicyBundle, load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.opa_server import OpaServerEngine
from tests.policy.opa_process import OpaProcess, find_opa_binary


@pytest.fixture(scope="session")
def bundle() -> PolicyBundle:
    return load_bundle()


@pytest.fixture(scope="session")
def embedded(bundle: PolicyBundle) -> EmbeddedEngine:
    return EmbeddedEngine(bundle)


@pytest.fixture(scope="session")
def opa(opa_url: str, bundle: PolicyBundle) -> Iterator[OpaServerEngine]:
    engine = OpaServerEngine(opa_url, bundle, timeout=2.0)
    engine.sync()
    yield engine
    engine.close()


@pytest.fixture
def opa_process(tmp_path: Path) -> Iterator[OpaProcess]:
    """A running OPA server of this test's own, stopped at the end whatever the test did to it."""
    process = OpaProcess(find_opa_binary(), tmp_path)
    process.start()
    yield process
    process.kill()


@pytest.fixture
def policies_copy(tmp_path: Path) -> Path:
    """A copy of the repository's policies that a test may edit, as an operator would."""
    copy = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, copy)
    return copy

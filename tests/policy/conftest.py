"""Fixtures for the policy engines: the repository's bundle, an embedded engine, an OPA server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.policy.bundle import PolicyBundle, load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.opa_server import OpaServerEngine


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

"""Everything a running gateway holds, built once from the settings (no import-time state)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from joserfc.jwk import OKPKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.signing_key import load_token_signing_key
from gateway.catalogue import Catalogue
from gateway.clock import Clock, system_clock
from gateway.db import make_engine, make_sessionmaker
from gateway.policy.bundle import load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.engine import PolicyEngine, PolicyEngineUnavailable
from gateway.settings import PolicyEngineKind, Settings

log = structlog.get_logger("gateway.runtime")


@dataclass
class Runtime:
    settings: Settings
    database: Engine
    sessions: sessionmaker[Session]
    catalogue: Catalogue
    token_key: OKPKey
    policy_engine: PolicyEngine
    clock: Clock

    def close(self) -> None:
        self.policy_engine.close()
        self.database.dispose()


def build_runtime(settings: Settings, *, clock: Clock = system_clock) -> Runtime:
    """Open the database, load keys, catalogue and policy engine."""
    database = make_engine(settings.effective_database_url)
    return Runtime(
        settings=settings,
        database=database,
        sessions=make_sessionmaker(database),
        catalogue=Catalogue.load(settings.policies_dir),
        token_key=load_token_signing_key(settings),
        policy_engine=build_policy_engine(settings),
        clock=clock,
    )


def build_policy_engine(settings: Settings) -> PolicyEngine:
    """The embedded regorus engine by default; an OPA server, given the same bundle, in production."""
    bundle = load_bundle(settings.policies_dir)
    if settings.policy_engine is PolicyEngineKind.OPA:
        from gateway.policy.opa_server import OpaServerEngine

        engine = OpaServerEngine(settings.opa_url, bundle, timeout=settings.opa_timeout_seconds)
        try:
            engine.sync()
        except PolicyEngineUnavailable as error:
            # Decisions fail closed until /readyz manages to push the policies.
            log.warning("policy engine not in sync at start", error=str(error))
        return engine
    return EmbeddedEngine(bundle)

"""Everything a running gateway holds, built once from the settings (no import-time state)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import structlog
from joserfc.jwk import OKPKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audit.errors import AuditKeyError
from audit.keys import AuditSigningKey, public_keys, publish_jwks
from gateway.audit_log.trail import AuditTrail
from gateway.auth.key_ring import KeyRing, load_ring, load_session_key, read_retired
from gateway.auth.participant_tokens import ParticipantVerifier
from gateway.auth.sign_in_providers import SignInProviders, sign_in_providers
from gateway.auth.signing_key import SigningKeyError, generate_ed25519_pem, load_token_signing_key
from gateway.core.batch_writer import BatchWriter
from gateway.core.catalogue import Catalogue
from gateway.core.clock import Clock, system_clock
from gateway.core.db import make_engine, make_sessionmaker
from gateway.core.metrics import Metrics
from gateway.identity.keys import IdentityKeys, load_identity_keys
from gateway.policy.bundle import load_bundle
from gateway.policy.embedded import EmbeddedEngine
from gateway.policy.engine import PolicyEngine, PolicyEngineUnavailable
from gateway.policy.probes import Probe, load_probes
from gateway.settings import PolicyEngineKind, Settings
from gateway.storage.kek import KekRing, load_kek, parse_kek

log = structlog.get_logger("gateway.runtime")


@dataclass(frozen=True)
class AuditKeys:
    """The key that signs audit checkpoints now, and the JWKS that verifies every checkpoint."""

    signing_key: AuditSigningKey
    jwks: dict[str, Any]


@dataclass
class Runtime:
    settings: Settings
    database: Engine
    sessions: sessionmaker[Session]
    catalogue: Catalogue
    token_keys: KeyRing
    receipt_keys: KeyRing
    session_key: bytes
    policy_engine: PolicyEngine
    clock: Clock
    audit_keys: AuditKeys
    identity_keys: IdentityKeys
    participants: ParticipantVerifier
    sign_in: SignInProviders
    keks: KekRing
    writer: BatchWriter
    trail: AuditTrail
    probes: list[Probe]
    metrics: Metrics

    @property
    def token_key(self) -> OKPKey:
        """The key that signs access tokens now."""
        return self.token_keys.current

    def close(self) -> None:
        self.writer.close()
        self.policy_engine.close()
        self.database.dispose()


def build_runtime(settings: Settings, *, clock: Clock = system_clock) -> Runtime:
    """Open the database, load keys, catalogue and policy engine."""
    database = make_engine(settings.effective_database_url, write_wait=settings.write_wait_seconds)
    token_key = load_token_signing_key(settings)
    keys = settings.data_dir / "keys"
    sessions = make_sessionmaker(database)
    identity_keys = identity_keys_for(settings)
    audit_keys = load_audit_keys(settings)
    metrics = Metrics()
    trail = replace(
        audit_trail_for(settings, audit_keys.signing_key, identity_keys, clock),
        on_append=lambda action: metrics.audit_appends.labels(action).inc(),
    )
    return Runtime(
        settings=settings,
        database=database,
        sessions=sessions,
        catalogue=Catalogue.load(settings.policies_dir),
        token_keys=KeyRing(
            current=token_key,
            retired=read_retired(settings.token_retired_keys_file or keys / "token-retired.json"),
        ),
        receipt_keys=load_ring(
            settings.receipt_signing_key_file or keys / "receipt-signing.pem",
            settings.receipt_retired_keys_file or keys / "receipt-retired.json",
            create=settings.receipt_signing_key_file is None and settings.generate_missing_keys,
            name="RECEIPT_SIGNING_KEY_FILE",
        ),
        session_key=load_session_key(
            settings.session_key_file or keys / "session.key",
            create=settings.session_key_file is None and settings.generate_missing_keys,
        ),
        policy_engine=build_policy_engine(settings),
        clock=clock,
        identity_keys=identity_keys,
        participants=ParticipantVerifier(settings, demo_key=token_key),
        sign_in=sign_in_providers(settings),
        keks=kek_ring_for(settings),
        audit_keys=audit_keys,
        writer=BatchWriter(
            sessions, on_batch=metrics.writer_batches.observe, after_written=trail.checkpoint_after
        ),
        trail=trail,
        probes=load_probes(settings.policies_dir),
        metrics=metrics,
    )


def audit_trail_for(
    settings: Settings, signing_key: AuditSigningKey, identity_keys: IdentityKeys, clock: Clock
) -> AuditTrail:
    """The one append path, for the gateway and the CLI alike."""
    return AuditTrail(
        clock=clock,
        identity_keys=identity_keys,
        signing_key=signing_key,
        origin=settings.audit_origin,
        checkpoint_every_entries=settings.audit_checkpoint_every_entries,
        checkpoint_every_seconds=settings.audit_checkpoint_every_seconds,
    )


def identity_keys_for(settings: Settings) -> IdentityKeys:
    """The configured identity key file, or one generated in data_dir on the embedded default."""
    return load_identity_keys(
        settings.identity_keys_file or settings.data_dir / "keys" / "identity.json",
        create=settings.identity_keys_file is None and settings.generate_missing_keys,
    )


def kek_ring_for(settings: Settings) -> KekRing:
    """The configured KEK (text or file), or one generated in data_dir on the embedded default."""
    if settings.kek is not None:
        primary = parse_kek(settings.kek.get_secret_value())
    else:
        primary = load_kek(
            settings.kek_file or settings.data_dir / "keys" / "kek.b64",
            create=settings.kek_file is None and settings.generate_missing_keys,
        )
    previous = (
        load_kek(settings.previous_kek_file, create=False) if settings.previous_kek_file else None
    )
    return KekRing(primary=primary, previous=previous)


def build_policy_engine(settings: Settings) -> PolicyEngine:
    """The embedded regorus engine by default; an OPA server, given the same bundle, in production."""
    bundle = load_bundle(settings.policies_dir)
    if settings.policy_engine is PolicyEngineKind.OPA:
        from gateway.policy.opa_server import OpaServerEngine

        engine = OpaServerEngine(
            settings.opa_url,
            bundle,
            timeout=settings.opa_timeout_seconds,
            cooloff=settings.opa_cooloff_seconds,
        )
        try:
            engine.sync()
        except PolicyEngineUnavailable as error:
            # Decisions fail closed; the first that finds no policy pushes them again.
            log.warning("policy engine not in sync at start", error=str(error))
        return engine
    return EmbeddedEngine(bundle)


def load_audit_keys(settings: Settings) -> AuditKeys:
    """The configured audit key, or one generated in data_dir on first start; plus retired keys."""
    path = settings.audit_signing_key_file
    if path is None:
        path = settings.data_dir / "keys" / "audit-signing.pem"
        if not path.exists() and not settings.generate_missing_keys:
            raise SigningKeyError(
                "set SCHAKEL_AUDIT_SIGNING_KEY_FILE (`schakel keys init` makes one)"
            )
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600, exist_ok=False)
            path.write_bytes(generate_ed25519_pem())
    elif not path.is_file():
        raise SigningKeyError(f"SCHAKEL_AUDIT_SIGNING_KEY_FILE: no file at {path}")
    retired: dict[str, Any] | None = None
    try:
        signing_key = AuditSigningKey.from_pem(path.read_bytes())
        if settings.audit_retired_keys_file is not None:
            retired = json.loads(settings.audit_retired_keys_file.read_text("utf-8"))
            public_keys(retired or {})
    except (OSError, ValueError, AuditKeyError) as error:
        raise SigningKeyError(f"audit signing keys: {error}") from None
    return AuditKeys(signing_key=signing_key, jwks=publish_jwks(signing_key, retired))

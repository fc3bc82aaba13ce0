"""Putting edited policies in force without a restart: the steps behind
``POST /v1/admin/policy/reload``.

The policies and the catalogue are read again from ``SCHAKEL_POLICIES_DIR``. Before they are
put in force they must load, decide every probe as it expects (``gateway.policy.probes``, on a
candidate engine of their own, so no request meets them first) and, when an ``opa`` binary is
configured, pass their own tests (``opa test``). A refused bundle leaves the revision in force
untouched: 422 naming the file or the probe, and an audit entry. On an OPA server the probes are
decided again once the bundle is pushed; should OPA decide otherwise, the old bundle is pushed
back. Every change of revision is recorded in the audit log.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy.orm import Session

from audit.schemas import Outcome
from gateway.auth.access_tokens import Caller
from gateway.auth.roles import OPERATOR_ROLE, require_role
from gateway.core.catalogue import CATALOGUE_FILE, Catalogue
from gateway.core.db import KeptDespiteError
from gateway.errors import GatewayError
from gateway.policy.bundle import PolicyBundle, PolicyBundleError, load_bundle
from gateway.policy.embedded import EmbeddedEngine, refusal_of
from gateway.policy.engine import Decision, PolicyRefused
from gateway.policy.probes import PROBES_FILE, Probe, ProbesError, failures, load_probes
from gateway.runtime import Runtime

log = structlog.get_logger("gateway.policy")
OPA_TEST_TIMEOUT_SECONDS = 120


class PolicyNotReloaded(GatewayError, KeptDespiteError):
    """The new policies do not load or do not decide; the revision in force stays, and the
    refusal's audit entry is committed before the 422 is answered."""

    status = 422
    slug = "policy-refused"
    title = "Policy bundle refused"


class PolicyReload(BaseModel):
    policy_engine: str
    old_revision: str
    new_revision: str
    changed: bool


def reload_policies(
    session: Session, runtime: Runtime, trace_id: str | None, caller: Caller
) -> PolicyReload:
    """Load, check on a candidate, hand to the engine, swap the catalogue; audit either way."""
    require_role(caller, OPERATOR_ROLE, "reloading policies needs a party with the operator role")
    engine = runtime.policy_engine
    old_revision = engine.revision
    try:
        candidate = _checked_candidate(runtime)
        _put_in_force(runtime, candidate.bundle)
    except PolicyNotReloaded as refused:
        _record(session, runtime, trace_id, caller, Outcome.ERROR, old_revision, refused.detail)
        raise
    runtime.catalogue, runtime.probes = candidate.catalogue, candidate.probes
    new_revision = engine.revision
    if new_revision != old_revision:
        reason = f"policy revision {old_revision} replaced"
        _record(session, runtime, trace_id, caller, Outcome.OK, new_revision, reason)
        log.info("policy revision changed", old_revision=old_revision, policy_revision=new_revision)
    return PolicyReload(
        policy_engine=engine.name,
        old_revision=old_revision,
        new_revision=new_revision,
        changed=new_revision != old_revision,
    )


@dataclass(frozen=True)
class _Candidate:
    bundle: PolicyBundle
    catalogue: Catalogue
    probes: list[Probe]


def _checked_candidate(runtime: Runtime) -> _Candidate:
    """The bundle and catalogue on disk, once they load, pass their tests and decide the probes."""
    policies_dir = runtime.settings.policies_dir
    revision_in_force = runtime.policy_engine.revision
    try:
        bundle = load_bundle(policies_dir)
    except PolicyBundleError as error:
        raise _refused(error.path or ".", str(error), revision_in_force) from None
    catalogue = _load_catalogue(policies_dir, revision_in_force)
    refused = refusal_of(bundle)
    if refused is not None:
        raise _refused(refused.path, refused.error, revision_in_force)
    candidate = EmbeddedEngine(bundle)
    try:
        _opa_tests_pass(runtime.settings.opa_binary, policies_dir, revision_in_force)
        probes = _probes_pass(policies_dir, candidate.decide, revision_in_force)
    finally:
        candidate.close()
    return _Candidate(bundle, catalogue, probes)


def _put_in_force(runtime: Runtime, bundle: PolicyBundle) -> None:
    """Hand the bundle to the engine; on a server, decide the probes there too, or roll back."""
    engine = runtime.policy_engine
    old_bundle_revision = engine.revision
    previous = engine.bundle
    try:
        engine.reload(bundle)
    except PolicyRefused as error:
        raise _refused(error.path, error.error, old_bundle_revision) from None
    if isinstance(engine, EmbeddedEngine):
        return  # the candidate was this very engine's kind, deciding this very bundle
    try:
        _probes_pass(runtime.settings.policies_dir, engine.decide, old_bundle_revision)
    except PolicyNotReloaded:
        engine.reload(previous)
        raise


def _probes_pass(
    policies_dir: Path, decide: Callable[[dict[str, Any]], Decision], revision_in_force: str
) -> list[Probe]:
    try:
        probes = load_probes(policies_dir)
    except ProbesError as error:
        raise _refused(PROBES_FILE, str(error), revision_in_force) from None
    failed = failures(probes, decide)
    if failed:
        raise _refused(PROBES_FILE, "; ".join(failed), revision_in_force)
    return probes


def _opa_tests_pass(opa: Path | None, policies_dir: Path, revision_in_force: str) -> None:
    """``opa test`` on the policies' own tests, when the operator configured an ``opa`` binary."""
    if opa is None:
        return
    try:
        done = subprocess.run(  # noqa: S603 - a configured binary, no shell
            [str(opa), "test", str(policies_dir)],
            capture_output=True,
            text=True,
            timeout=OPA_TEST_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise _refused(".", f"opa test did not run: {error}", revision_in_force) from None
    if done.returncode != 0:
        summary = (done.stdout + done.stderr).strip().splitlines()
        raise _refused(".", f"opa test failed: {' | '.join(summary[-5:])}", revision_in_force)


def _record(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    outcome: Outcome,
    revision: str,
    reason: str,
) -> None:
    runtime.trail.record(
        session,
        trace_id=trace_id,
        actor_party=caller.party,
        actor_domain=caller.domain,
        action="policy.reload",
        outcome=outcome,
        policy_revision=revision,
        reason=reason[:1000],
    )


def _load_catalogue(policies_dir: Path, revision_in_force: str) -> Catalogue:
    """The catalogue the API validates against, read from the same files as the policies."""
    try:
        return Catalogue.load(policies_dir)
    except (OSError, LookupError, TypeError, AttributeError, ValueError) as error:
        raise _refused(CATALOGUE_FILE.as_posix(), _describe(error), revision_in_force) from None


def _describe(error: Exception) -> str:
    if isinstance(error, LookupError):
        return f"missing entry {error}"
    return str(error) or type(error).__name__


def _refused(path: str, error: str, revision_in_force: str) -> PolicyNotReloaded:
    log.warning("policy reload refused", file=path, error=error)
    return PolicyNotReloaded(
        f"{path}: {error}", file=path, error=error, policy_revision=revision_in_force
    )

"""Putting edited policies in force without a restart: the steps behind
``POST /v1/admin/policy/reload``.

The policies and the catalogue are read again from ``SCHAKEL_POLICIES_DIR`` and handed to the
running engine. A bundle the engine refuses leaves the revision in force untouched (422 naming
the file). Every change of revision is recorded in the audit log.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from pydantic import BaseModel
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from gateway.auth.access_tokens import Caller
from gateway.auth.roles import OPERATOR_ROLE, require_role
from gateway.core.catalogue import CATALOGUE_FILE, Catalogue
from gateway.errors import GatewayError
from gateway.policy.bundle import PolicyBundleError, load_bundle
from gateway.policy.engine import PolicyRefused
from gateway.runtime import Runtime

log = structlog.get_logger("gateway.policy")


class PolicyNotReloaded(GatewayError):
    """The new policies do not load; the revision in force stays."""

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
    """Load, hand to the engine, swap the catalogue; record the change of revision."""
    require_role(caller, OPERATOR_ROLE, "reloading policies needs a party with the operator role")
    engine = runtime.policy_engine
    old_revision = engine.revision
    try:
        bundle = load_bundle(runtime.settings.policies_dir)
    except PolicyBundleError as error:
        raise _refused(error.path or ".", str(error), old_revision) from None
    catalogue = _load_catalogue(runtime.settings.policies_dir, old_revision)
    try:
        engine.reload(bundle)
    except PolicyRefused as error:
        raise _refused(error.path, error.error, old_revision) from None
    runtime.catalogue = catalogue
    new_revision = engine.revision
    if new_revision != old_revision:
        runtime.trail.record(
            session,
            trace_id=trace_id,
            actor_party=caller.party,
            actor_domain=caller.domain,
            action=Action.POLICY_RELOAD,
            outcome=Outcome.OK,
            policy_revision=new_revision,
            reason=f"policy revision {old_revision} replaced",
        )
        log.info("policy revision changed", old_revision=old_revision, policy_revision=new_revision)
    return PolicyReload(
        policy_engine=engine.name,
        old_revision=old_revision,
        new_revision=new_revision,
        changed=new_revision != old_revision,
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

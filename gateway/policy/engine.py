"""The policy-engine interface: ``decide(input) -> Decision`` on any engine (docs/architecture.md, "The policy decision contract")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gateway.policy.bundle import PolicyBundle

DECISION_QUERY = "data.schakel.disclosure.decision"


class PolicyEngineUnavailable(Exception):
    """The engine could not be asked or gave no usable answer: callers must fail closed.

    ``kind`` says which, in a fixed vocabulary (metrics count by it): ``timeout``,
    ``unreachable``, ``cooling-off``, ``undefined``, ``malformed`` or ``error``.
    """

    def __init__(self, message: str, *, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


class PolicyRefused(Exception):
    """The engine would not load a policy bundle; the file and the engine's error say why."""

    def __init__(self, path: str, error: str) -> None:
        super().__init__(f"{path}: {error}")
        self.path = path
        self.error = error


SortedNames = Annotated[list[str], AfterValidator(sorted)]


class Reason(BaseModel):
    """Why the policy decided as it did: for the request as a whole (``category`` null) or for
    one category asked, with a reason code, its text and the consents a disclosure relies on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: str | None
    allowed: bool
    code: str
    reason: str
    consent_ids: list[str] = Field(default_factory=list)


class Decision(BaseModel):
    """What the policies decided for one request, and which policy revision decided it."""

    model_config = ConfigDict(frozen=True)

    allow: bool
    categories: SortedNames = Field(default_factory=list)
    fields: dict[str, list[str]] = Field(default_factory=dict)
    obligations: SortedNames = Field(default_factory=list)
    reasons: list[Reason] = Field(default_factory=list)
    policy_revision: str

    def reason_for(self, category: str) -> Reason | None:
        """The reason given for one category asked, if the policy gave one."""
        return next((reason for reason in self.reasons if reason.category == category), None)

    def consents_relied_on(self, categories: Iterable[str]) -> list[str]:
        """The ids of the consents on which these (disclosed) categories were allowed, sorted."""
        wanted = set(categories)
        return sorted(
            {
                consent_id
                for reason in self.reasons
                if reason.category in wanted
                for consent_id in reason.consent_ids
            }
        )


class PolicyEngine(Protocol):
    """Anything that evaluates the Schakel policies."""

    name: str
    # True when a decision waits on nothing outside the process (no network): it then runs on
    # the batch writer's thread, in the transaction that records it.
    bounded: bool

    @property
    def revision(self) -> str:
        """Digest of the policy bundle this engine evaluates."""
        ...

    @property
    def bundle(self) -> PolicyBundle:
        """The policy bundle in force."""
        ...

    def decide(self, policy_input: dict[str, Any], *, arrived: float | None = None) -> Decision:
        """Evaluate the decision rule; raise PolicyEngineUnavailable on any failure.

        ``arrived`` (``time.monotonic()``) is when the request came in: an engine with a
        time-out counts it from then, so time spent waiting for a thread is not added to it.
        """
        ...

    def ready(self) -> bool:
        """True when the engine answers a query with the expected policy revision."""
        ...

    def sync(self) -> None:
        """Make the engine hold this gateway's policy revision; raise PolicyEngineUnavailable."""
        ...

    def reload(self, bundle: PolicyBundle) -> None:
        """Put ``bundle`` in force without a restart; on PolicyRefused the old one stays in force.

        Raises PolicyEngineUnavailable when the engine cannot be asked at all.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def decision_from_document(document: object, *, policy_revision: str) -> Decision:
    """Check one engine's decision document against the contract; malformed means unavailable.

    Both engines must give the same document; anything else (undefined, wrong types, allow without
    categories, fields for a category not allowed) is refused so that the gateway fails closed.
    """
    if not isinstance(document, dict):
        raise PolicyEngineUnavailable(
            f"decision is not an object: {type(document).__name__}", kind="malformed"
        )
    try:
        decision = Decision.model_validate(
            {**document, "policy_revision": policy_revision}, strict=True
        )
    except ValueError as exc:
        raise PolicyEngineUnavailable(f"malformed decision: {exc}", kind="malformed") from exc
    if decision.allow != bool(decision.categories):
        raise PolicyEngineUnavailable(
            "malformed decision: allow disagrees with categories", kind="malformed"
        )
    if not set(decision.fields) <= set(decision.categories):
        raise PolicyEngineUnavailable(
            "malformed decision: fields for a category not allowed", kind="malformed"
        )
    return decision

"""The OPA server engine: the Schakel policies evaluated by an OPA sidecar over its REST API.

``sync()`` pushes the bundle's policies (``PUT /v1/policies/schakel/<path>``), its data documents
(``PUT /v1/data/<dir>``) and, last, a revision marker (``data.schakel.bundle.revision``), all via
opa-python-client. Call it once at start-up (the app's lifespan does); the constructor does no I/O.
``ready()`` holds OPA to that revision, so a sidecar that restarted empty or was synced by a
gateway of another release is not ready. ``decide()`` uses a separate client without retries and
with a short timeout: an unreachable OPA must fail closed quickly.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from opa_client import OpaClient
from opa_client.errors import RegoParseError

from gateway.policy.bundle import PolicyBundle
from gateway.policy.engine import (
    DECISION_QUERY,
    Decision,
    PolicyEngineUnavailable,
    decision_from_document,
)

POLICY_ID_PREFIX = "schakel/"
REVISION_DATA_PATH = "schakel/bundle"
_DECISION_PACKAGE, _DECISION_RULE = DECISION_QUERY.removeprefix("data.").rsplit(".", 1)
_SYNC_TIMEOUT_SECONDS = 5.0


class OpaServerEngine:
    """Asks an OPA server for ``data.schakel.disclosure.decision``, failing closed."""

    name = "opa"

    def __init__(self, url: str, bundle: PolicyBundle, timeout: float = 0.5) -> None:
        self._bundle = bundle
        host, port, ssl = _split_url(url)
        self._decisions = OpaClient(host=host, port=port, ssl=ssl, timeout=timeout, retries=0)
        self._admin = OpaClient(
            host=host, port=port, ssl=ssl, timeout=max(timeout, _SYNC_TIMEOUT_SECONDS), retries=2
        )

    @property
    def revision(self) -> str:
        """Digest of the policy bundle this engine pushes and expects."""
        return self._bundle.revision

    def sync(self) -> None:
        """Check OPA serves this bundle (e.g. mounted with ``--bundle``); else push it.

        Pushing sends data, policies and the revision marker, and drops Schakel policies no
        longer shipped.
        """
        if self.serves_same_bundle():
            return
        try:
            for directory, document in sorted(self._bundle.documents.items()):
                self._put_data(directory, document)
            self._put_policies()
            shipped = {POLICY_ID_PREFIX + path for path in self._bundle.policies}
            for policy_id in self._admin.get_policies_list():
                if policy_id.startswith(POLICY_ID_PREFIX) and policy_id not in shipped:
                    self._admin.delete_policy(policy_id)
            self._admin.update_or_create_data({"revision": self.revision}, REVISION_DATA_PATH)
        except (requests.RequestException, ValueError) as exc:
            raise PolicyEngineUnavailable(f"cannot sync OPA: {exc}") from exc
        except Exception as exc:  # opa-python-client raises its own exception classes
            raise PolicyEngineUnavailable(f"OPA refused the bundle: {_describe(exc)}") from exc

    def served_revision(self) -> str | None:
        """The revision marker OPA holds, or None when it has none or cannot be asked."""
        try:
            response = self._decisions.get_data(REVISION_DATA_PATH)
        except Exception:  # unreachable, not JSON, or PolicyNotFoundError (never synced)
            return None
        result = response.get("result")
        revision = result.get("revision") if isinstance(result, dict) else None
        return revision if isinstance(revision, str) else None

    def decide(self, policy_input: dict[str, Any]) -> Decision:
        """POST the input to the decision path; errors, timeouts and no result fail closed."""
        try:
            body = self._decisions.query_rule(policy_input, _DECISION_PACKAGE, _DECISION_RULE)
        except (requests.RequestException, ValueError, TypeError) as exc:
            raise PolicyEngineUnavailable(f"OPA did not decide: {exc}") from exc
        if not isinstance(body, dict) or "result" not in body:
            raise PolicyEngineUnavailable("OPA returned no result: decision undefined")
        return decision_from_document(body["result"], policy_revision=self.revision)

    def ready(self) -> bool:
        """True when OPA answers and holds the revision this gateway ships."""
        return self.served_revision() == self.revision or self.serves_same_bundle()

    def serves_same_bundle(self) -> bool:
        """True when OPA holds every policy text and data document of this bundle unchanged.

        This is the check for an OPA that loads the policies itself (``opa run --bundle``): its
        bundle roots cannot be written, so the gateway compares instead of pushing.
        """
        try:
            served = {
                str(self._admin.get_policy(policy_id)["result"]["raw"])
                for policy_id in self._admin.get_policies_list()
            }
            if not set(self._bundle.policies.values()) <= served:
                return False
            return all(
                self._admin.get_data(directory).get("result") == document
                for directory, document in self._bundle.documents.items()
            )
        except Exception:  # unreachable, or a policy vanished between list and get
            return False

    def close(self) -> None:
        """Close both HTTP sessions."""
        self._decisions.close_connection()
        self._admin.close_connection()

    def _put_policies(self) -> None:
        # OPA compiles each module against those already loaded, so a module that uses a rule
        # of a module not yet pushed is refused; push in rounds until every module is in.
        pending = dict(sorted(self._bundle.policies.items()))
        while pending:
            refused: dict[str, Exception] = {}
            for path, text in pending.items():
                try:
                    self._admin.update_policy_from_string(
                        text, POLICY_ID_PREFIX + path, rego_compat=False
                    )
                except RegoParseError as exc:
                    refused[path] = exc
            if len(refused) == len(pending):
                first_path, first_error = next(iter(refused.items()))
                raise PolicyEngineUnavailable(f"OPA refused {first_path}: {first_error}")
            pending = {path: pending[path] for path in refused}

    def _put_data(self, directory: str, document: Any) -> None:
        if directory == "." or not isinstance(document, dict):
            # The data API takes an object at a path; the bundle has neither root data nor scalars.
            raise PolicyEngineUnavailable(f"cannot push data document at {directory!r}")
        self._admin.update_or_create_data(document, directory)


def _split_url(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"OPA URL must be http(s)://host[:port], not {url!r}")
    ssl = parts.scheme == "https"
    return parts.hostname, parts.port or (443 if ssl else 80), ssl


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"

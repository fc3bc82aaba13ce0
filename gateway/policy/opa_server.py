"""The OPA server engine: the Schakel policies evaluated by an OPA sidecar over its REST API.

``sync()`` pushes the bundle's policies (``PUT /v1/policies/schakel/<path>``), its data documents
(``PUT /v1/data/<dir>``) and, last, a revision marker (``data.schakel.bundle.revision``), all via
opa-python-client. Call it once at start-up (the app's lifespan does); the constructor does no I/O.
``reload()`` pushes a new bundle and, if OPA refuses part of it, pushes the old one back.
``ready()`` holds OPA to that revision, so a sidecar that restarted empty or was synced by a
gateway of another release is not ready; it only asks, it never pushes. ``decide()`` uses a
separate client without retries and with a short timeout, behind a circuit breaker: an
unreachable or frozen OPA must fail closed quickly, for every request and not only the first. A decision that comes back undefined (an OPA that restarted empty has no policies)
fails closed and starts a re-sync in the background, so decisions recover by themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
from opa_client import OpaClient
from opa_client.errors import DeletePolicyError, RegoParseError

from gateway.policy.breaker import Breaker
from gateway.policy.bundle import DATA_FILE, PolicyBundle
from gateway.policy.engine import (
    DECISION_QUERY,
    Decision,
    PolicyEngineUnavailable,
    PolicyRefused,
    decision_from_document,
)

POLICY_ID_PREFIX = "schakel/"
REVISION_DATA_PATH = "schakel/bundle"
log = structlog.get_logger("gateway.policy")
_DECISION_PACKAGE, _DECISION_RULE = DECISION_QUERY.removeprefix("data.").rsplit(".", 1)
_SYNC_TIMEOUT_SECONDS = 5.0
_RESYNC_PAUSE_SECONDS = 1.0


class OpaServerEngine:
    """Asks an OPA server for ``data.schakel.disclosure.decision``, failing closed."""

    name = "opa"
    bounded = False

    def __init__(
        self, url: str, bundle: PolicyBundle, timeout: float = 0.5, cooloff: float = 1.0
    ) -> None:
        self._bundle = bundle
        self._breaker = Breaker(cooloff)
        self._timeout = timeout
        host, port, ssl = _split_url(url)
        self._revisions = OpaClient(host=host, port=port, ssl=ssl, timeout=timeout, retries=0)
        self._address = (host, port, ssl)
        # One decision client per thread: each call sets its own time-out on it.
        self._per_thread = threading.local()
        self._decision_clients: list[OpaClient] = []
        self._clients_lock = threading.Lock()  # not the reload lock: a push may take seconds
        self._admin = OpaClient(
            host=host, port=port, ssl=ssl, timeout=max(timeout, _SYNC_TIMEOUT_SECONDS), retries=2
        )
        self._reload_lock = threading.Lock()
        self._resync_lock = threading.Lock()
        self._resync_started = -_RESYNC_PAUSE_SECONDS
        self._resyncing = False

    @property
    def revision(self) -> str:
        """Digest of the policy bundle this engine pushes and expects."""
        return self._bundle.revision

    @property
    def bundle(self) -> PolicyBundle:
        return self._bundle

    def sync(self) -> None:
        """Check OPA serves this bundle (e.g. mounted with ``--bundle``); else push it.

        Pushing sends data, policies and the revision marker, and drops Schakel policies no
        longer shipped.
        """
        if self.serves_same_bundle():
            return
        try:
            self._push(self._bundle)
        except PolicyRefused as exc:
            raise PolicyEngineUnavailable(f"OPA refused the bundle: {exc}") from exc

    def reload(self, bundle: PolicyBundle) -> None:
        """Push ``bundle`` and expect its revision from now on; if OPA refuses it, restore the old.

        An OPA that already serves ``bundle`` (it loads the policies itself) is only checked.
        """
        with self._reload_lock:
            if self._needs_push(bundle):
                try:
                    self._push(bundle)
                except PolicyRefused:
                    self._restore()
                    raise
            self._bundle = bundle

    def served_revision(self) -> str | None:
        """The revision marker OPA holds, or None when it has none or cannot be asked."""
        try:
            response = self._revisions.get_data(REVISION_DATA_PATH)
        except Exception:  # unreachable, not JSON, or PolicyNotFoundError (never synced)
            return None
        result = response.get("result")
        revision = result.get("revision") if isinstance(result, dict) else None
        return revision if isinstance(revision, str) else None

    def decide(self, policy_input: dict[str, Any], *, arrived: float | None = None) -> Decision:
        """POST the input to the decision path; errors, timeouts and no result fail closed.

        The time-out runs from the request's arrival when given: a request that waited for a
        thread while OPA froze is refused when its time-out is up, not a time-out later.
        """
        if not self._breaker.admit():
            raise PolicyEngineUnavailable(
                "OPA did not decide: it failed just now (cooling off)", kind="cooling-off"
            )
        left = self._timeout if arrived is None else self._timeout - (time.monotonic() - arrived)
        if left <= 0:  # our own wait, not OPA's failure: the breaker is not told
            raise PolicyEngineUnavailable(
                "OPA was not asked: the request waited out the policy time-out", kind="timeout"
            )
        client = self._decision_client()
        client.timeout = left
        try:
            body = client.query_rule(policy_input, _DECISION_PACKAGE, _DECISION_RULE)
        except (requests.Timeout, requests.ConnectionError) as exc:
            self._breaker.failed()
            kind = "timeout" if isinstance(exc, requests.Timeout) else "unreachable"
            raise PolicyEngineUnavailable(f"OPA did not decide: {exc}", kind=kind) from exc
        except (requests.RequestException, ValueError, TypeError) as exc:
            self._breaker.succeeded()  # it answered, if badly: no reason to stop asking
            raise PolicyEngineUnavailable(f"OPA did not decide: {exc}") from exc
        self._breaker.succeeded()
        if not isinstance(body, dict) or "result" not in body:
            self._resync_soon()
            raise PolicyEngineUnavailable(
                "OPA returned no result: decision undefined", kind="undefined"
            )
        return decision_from_document(body["result"], policy_revision=self.revision)

    def _decision_client(self) -> OpaClient:
        client: OpaClient | None = getattr(self._per_thread, "client", None)
        if client is None:
            host, port, ssl = self._address
            client = OpaClient(host=host, port=port, ssl=ssl, timeout=self._timeout, retries=0)
            self._per_thread.client = client
            with self._clients_lock:
                self._decision_clients.append(client)
        return client

    def _resync_soon(self) -> None:
        """Push the policies again on a thread of its own, at most once a second."""
        with self._resync_lock:
            now = time.monotonic()
            if self._resyncing or now - self._resync_started < _RESYNC_PAUSE_SECONDS:
                return
            self._resyncing, self._resync_started = True, now
        threading.Thread(target=self._resync, name="schakel-opa-resync", daemon=True).start()

    def _resync(self) -> None:
        try:
            with self._reload_lock:
                self.sync()
            log.info("OPA had lost the policies; pushed them again", revision=self.revision)
        except PolicyEngineUnavailable as error:
            log.warning("OPA re-sync failed; decisions stay refused", error=str(error))
        finally:
            with self._resync_lock:
                self._resyncing = False

    def ready(self) -> bool:
        """True when OPA answers and holds the revision this gateway ships."""
        return self.served_revision() == self.revision or self.serves_same_bundle()

    def serves_same_bundle(self, bundle: PolicyBundle | None = None) -> bool:
        """True when OPA holds every policy text and data document of the bundle unchanged.

        This is the check for an OPA that loads the policies itself (``opa run --bundle``): its
        bundle roots cannot be written, so the gateway compares instead of pushing.
        """
        bundle = bundle or self._bundle
        try:
            served = {
                str(self._admin.get_policy(policy_id)["result"]["raw"])
                for policy_id in self._admin.get_policies_list()
            }
            if not set(bundle.policies.values()) <= served:
                return False
            return all(
                self._admin.get_data(directory).get("result") == document
                for directory, document in bundle.documents.items()
            )
        except Exception:  # unreachable, or a policy vanished between list and get
            return False

    def close(self) -> None:
        """Close every HTTP session."""
        with self._clients_lock:
            clients, self._decision_clients = self._decision_clients, []
        for client in [self._revisions, self._admin, *clients]:
            client.close_connection()

    def _push(self, bundle: PolicyBundle) -> None:
        """Data, then policies, then the revision marker; PolicyRefused names what OPA refused."""
        try:
            for directory, document in sorted(bundle.documents.items()):
                self._put_data(directory, document)
            self._put_policies(bundle)
            for policy_id in self._stale_policy_ids(bundle):
                self._admin.delete_policy(policy_id)
            self._admin.update_or_create_data({"revision": bundle.revision}, REVISION_DATA_PATH)
        except (PolicyRefused, PolicyEngineUnavailable):
            raise
        except (requests.RequestException, ValueError) as exc:
            raise PolicyEngineUnavailable(f"cannot sync OPA: {exc}") from exc
        except Exception as exc:  # opa-python-client raises its own exception classes
            raise PolicyEngineUnavailable(f"OPA refused the bundle: {_describe(exc)}") from exc

    def _needs_push(self, bundle: PolicyBundle) -> bool:
        if not self.serves_same_bundle(bundle):
            return True
        try:
            return bool(self._stale_policy_ids(bundle))
        except Exception as exc:  # unreachable, or the client's own exception classes
            raise PolicyEngineUnavailable(f"cannot ask OPA: {_describe(exc)}") from exc

    def _stale_policy_ids(self, bundle: PolicyBundle) -> list[str]:
        """Schakel modules pushed earlier that ``bundle`` no longer ships."""
        shipped = {POLICY_ID_PREFIX + path for path in bundle.policies}
        return [policy_id for policy_id in self._schakel_policy_ids() if policy_id not in shipped]

    def _restore(self) -> None:
        """Push the bundle in force again after OPA refused part of a new one."""
        try:
            self._push(self._bundle)
        except PolicyRefused as exc:
            raise PolicyEngineUnavailable(f"OPA refused the bundle in force: {exc}") from exc

    def _put_policies(self, bundle: PolicyBundle) -> None:
        try:
            self._put_in_rounds(bundle.policies)
        except PolicyRefused:
            in_force = self._schakel_policy_ids()
            if not in_force:
                raise
            # Modules that change together (one drops a function the other's new text no longer
            # calls) are each refused against the other's old text, since OPA compiles every
            # update against the modules in force. Push them onto none instead: decisions are
            # undefined, so refused, until the last module is in.
            self._delete_in_rounds(in_force)
            self._put_in_rounds(bundle.policies)

    def _put_in_rounds(self, policies: Mapping[str, str]) -> None:
        # OPA compiles each module against those already loaded, so a module that uses a rule
        # of a module not yet pushed is refused; push in rounds until every module is in.
        pending = dict(sorted(policies.items()))
        while pending:
            refused: dict[str, RegoParseError] = {}
            for path, text in pending.items():
                try:
                    self._admin.update_policy_from_string(
                        text, POLICY_ID_PREFIX + path, rego_compat=False
                    )
                except RegoParseError as exc:
                    refused[path] = exc
            if len(refused) == len(pending):
                first_path, first_error = next(iter(refused.items()))
                raise PolicyRefused(first_path, _opa_error(first_error))
            pending = {path: pending[path] for path in refused}

    def _delete_in_rounds(self, policy_ids: list[str]) -> None:
        """Delete modules; one another module still calls is refused, so delete in rounds."""
        pending = policy_ids
        while pending:
            refused = []
            for policy_id in pending:
                try:
                    self._admin.delete_policy(policy_id)
                except DeletePolicyError:
                    refused.append(policy_id)
            if len(refused) == len(pending):
                raise PolicyEngineUnavailable(f"OPA keeps the modules {', '.join(refused)}")
            pending = refused

    def _schakel_policy_ids(self) -> list[str]:
        return [
            policy_id
            for policy_id in self._admin.get_policies_list()
            if policy_id.startswith(POLICY_ID_PREFIX)
        ]

    def _put_data(self, directory: str, document: Any) -> None:
        if directory == "." or not isinstance(document, dict):
            # The data API takes an object at a path; the bundle has neither root data nor scalars.
            raise PolicyRefused(f"{directory}/{DATA_FILE}", "cannot push a data document here")
        try:
            self._admin.update_or_create_data(document, directory)
        except RegoParseError as exc:  # the client's name for any refusal OPA explains
            raise PolicyRefused(f"{directory}/{DATA_FILE}", _opa_error(exc)) from exc


def _opa_error(exc: RegoParseError) -> str:
    """OPA's first error with its line, e.g. ``rego_parse_error: unexpected eof token (line 3)``."""
    for entry in exc.errors:
        if isinstance(entry, dict) and entry.get("message"):
            location = entry.get("location")
            row = location.get("row") if isinstance(location, dict) else None
            where = f" (line {row})" if row else ""
            return f"{entry.get('code', exc.expression)}: {entry['message']}{where}"
    return f"{exc.expression}: {exc.message}"


def _split_url(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"OPA URL must be http(s)://host[:port], not {url!r}")
    ssl = parts.scheme == "https"
    return parts.hostname, parts.port or (443 if ssl else 80), ssl


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"

"""The embedded policy engine: the Schakel policies evaluated in-process by regorus.

regorus' Python ``Engine`` is *unsendable* (pyo3): used, or even dropped, on any thread but the
one that created it, it panics. So one dedicated thread owns the engine for its whole life: it
builds it from the bundle once, clones it per decision (under 1 µs, so no state is shared between
decisions), and drops it on ``close()``. Request threads hand decisions to it and wait.
Input and output cross the boundary as JSON: regorus turns a Python ``True`` into the number 1,
and JSON gives the same arrays and objects as an OPA server.
"""

from __future__ import annotations

import json
import queue
import threading
import weakref
from concurrent.futures import Future
from typing import Any

import regorus

from gateway.policy.bundle import PolicyBundle
from gateway.policy.engine import (
    DECISION_QUERY,
    Decision,
    PolicyEngineUnavailable,
    decision_from_document,
)

_UNDEFINED_INPUT: dict[str, Any] = {}
_DECISION_TIMEOUT_SECONDS = 5.0


class EmbeddedEngine:
    """Evaluates ``data.schakel.disclosure.decision`` with regorus, failing closed."""

    name = "embedded"

    def __init__(self, bundle: PolicyBundle) -> None:
        self._bundle = bundle
        self._owner = _EngineThread(bundle)  # parse errors surface here, at start-up
        weakref.finalize(self, self._owner.stop)

    @property
    def revision(self) -> str:
        """Digest of the policy bundle this engine evaluates."""
        return self._bundle.revision

    def decide(self, policy_input: dict[str, Any]) -> Decision:
        """Evaluate the decision for one request; any engine failure is PolicyEngineUnavailable."""
        try:
            input_json = json.dumps(policy_input)
        except (TypeError, ValueError) as exc:
            raise PolicyEngineUnavailable(f"policy input is not JSON: {exc}") from exc
        document = self._owner.evaluate(input_json)
        return decision_from_document(document, policy_revision=self._bundle.revision)

    def ready(self) -> bool:
        """True when the policies answer an empty request with a well-formed refusal."""
        try:
            decision = self.decide(_UNDEFINED_INPUT)
        except PolicyEngineUnavailable:
            return False
        return not decision.allow

    def sync(self) -> None:
        """Nothing to push: the policies were loaded from the bundle in-process."""

    def close(self) -> None:
        """Drop the engine on the thread that owns it, and end that thread."""
        self._owner.stop()


class _EngineThread:
    """The one thread that builds, uses and drops a regorus engine; others queue work for it."""

    def __init__(self, bundle: PolicyBundle) -> None:
        self._requests: queue.SimpleQueue[tuple[str, Future[object]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stopped = False
        started: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(bundle, started), name="regorus", daemon=True
        )
        self._thread.start()
        started.result()

    def evaluate(self, input_json: str) -> object:
        result: Future[object] = Future()
        with self._lock:
            if self._stopped:
                raise PolicyEngineUnavailable("the embedded policy engine is closed")
            self._requests.put((input_json, result))
        try:
            return result.result(timeout=_DECISION_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            raise PolicyEngineUnavailable("the embedded policy engine did not answer") from exc

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._requests.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _run(self, bundle: PolicyBundle, started: Future[None]) -> None:
        try:
            engine = _build_engine(bundle, json.dumps(bundle.data))
        except PolicyEngineUnavailable as exc:
            self._stopped = True
            started.set_exception(PolicyEngineUnavailable(str(exc)))  # fresh: see below
            return
        started.set_result(None)
        while (request := self._requests.get()) is not None:
            input_json, result = request
            try:
                result.set_result(_evaluate(engine, input_json))
            except PolicyEngineUnavailable as exc:
                # A fresh exception: the caught one's traceback holds frames that hold the engine,
                # which must not reach, and be dropped on, the waiting thread.
                result.set_exception(PolicyEngineUnavailable(str(exc)))
        del engine  # dropped here, on its own thread


def _evaluate(engine: Any, input_json: str) -> object:
    try:
        decision_engine = engine.clone()
        decision_engine.set_input_json(input_json)
        return json.loads(decision_engine.eval_rule_as_json(DECISION_QUERY))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # regorus raises RuntimeError, and pyo3 panics
        raise PolicyEngineUnavailable(f"embedded engine failed: {_first_line(exc)}") from exc


def _build_engine(bundle: PolicyBundle, data_json: str) -> Any:
    try:
        engine = regorus.Engine()
        for path, text in sorted(bundle.policies.items()):
            engine.add_policy(path, text)
        engine.add_data_json(data_json)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise PolicyEngineUnavailable(f"policies do not load: {_first_line(exc)}") from exc
    return engine


def _first_line(exc: BaseException) -> str:
    # regorus appends a Rust backtrace to its messages; the first lines carry the meaning.
    text = str(exc).strip()
    return " ".join(text.split("\n\nStack backtrace:")[0].split())[:500]

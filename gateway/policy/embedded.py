"""The embedded policy engine: the Schakel policies evaluated in-process by regorus.

regorus' Python ``Engine`` is *unsendable* (pyo3): used, or even dropped, on any thread but the
one that created it, it panics. So one dedicated thread owns the engine for its whole life: it
builds it from the bundle, clones it per decision (under 1 µs, so no state is shared between
decisions), swaps in an engine built from a new bundle on ``reload()`` (keeping the old one when
the new does not load), and drops it on ``close()``. Request threads hand work to it and wait.
Because one thread decides and reloads in turn, every decision names the revision that made it.
Input and output cross the boundary as JSON: regorus turns a Python ``True`` into the number 1,
and JSON gives the same arrays and objects as an OPA server.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import regorus

from gateway.policy.bundle import DATA_FILE, PolicyBundle
from gateway.policy.engine import (
    DECISION_QUERY,
    Decision,
    PolicyEngineUnavailable,
    PolicyRefused,
    decision_from_document,
)

_UNDEFINED_INPUT: dict[str, Any] = {}
_DECISION_TIMEOUT_SECONDS = 5.0
_RELOAD_TIMEOUT_SECONDS = 30.0
_PACKAGE_QUERY = "data.schakel"
_ERROR_LOCATION = re.compile(r"--> (\S+?):\d+:\d+")  # regorus' "--> file:line:column"


class EmbeddedEngine:
    """Evaluates ``data.schakel.disclosure.decision`` with regorus, failing closed."""

    name = "embedded"

    def __init__(self, bundle: PolicyBundle) -> None:
        self._owner = _EngineThread(bundle)  # parse errors surface here, at start-up
        weakref.finalize(self, self._owner.stop)

    @property
    def revision(self) -> str:
        """Digest of the policy bundle in force."""
        return self._owner.revision

    def decide(self, policy_input: dict[str, Any]) -> Decision:
        """Evaluate the decision for one request; any engine failure is PolicyEngineUnavailable."""
        try:
            input_json = json.dumps(policy_input)
        except (TypeError, ValueError) as exc:
            raise PolicyEngineUnavailable(f"policy input is not JSON: {exc}") from exc
        document, revision = self._owner.evaluate(input_json)
        return decision_from_document(document, policy_revision=revision)

    def ready(self) -> bool:
        """True when the policies answer an empty request with a well-formed refusal."""
        try:
            decision = self.decide(_UNDEFINED_INPUT)
        except PolicyEngineUnavailable:
            return False
        return not decision.allow

    def sync(self) -> None:
        """Nothing to push: the policies were loaded from the bundle in-process."""

    def reload(self, bundle: PolicyBundle) -> None:
        """Build an engine from ``bundle`` and put it in force; PolicyRefused keeps the old one."""
        self._owner.reload(bundle)

    def close(self) -> None:
        """Drop the engine on the thread that owns it, and end that thread."""
        self._owner.stop()


@dataclass(frozen=True)
class _Evaluate:
    input_json: str
    result: Future[tuple[object, str]]


@dataclass(frozen=True)
class _Reload:
    bundle: PolicyBundle
    result: Future[None]


class _EngineThread:
    """The one thread that builds, uses and drops regorus engines; others queue work for it."""

    def __init__(self, bundle: PolicyBundle) -> None:
        self._requests: queue.SimpleQueue[_Evaluate | _Reload | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stopped = False
        self.revision = bundle.revision
        started: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(bundle, started), name="regorus", daemon=True
        )
        self._thread.start()
        started.result()

    def evaluate(self, input_json: str) -> tuple[object, str]:
        """The decision document and the revision of the engine that produced it."""
        result: Future[tuple[object, str]] = Future()
        self._submit(_Evaluate(input_json, result))
        try:
            return result.result(timeout=_DECISION_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            raise PolicyEngineUnavailable("the embedded policy engine did not answer") from exc

    def reload(self, bundle: PolicyBundle) -> None:
        result: Future[None] = Future()
        self._submit(_Reload(bundle, result))
        try:
            result.result(timeout=_RELOAD_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            raise PolicyEngineUnavailable("the embedded policy engine did not reload") from exc

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._requests.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _submit(self, request: _Evaluate | _Reload) -> None:
        with self._lock:
            if self._stopped:
                raise PolicyEngineUnavailable("the embedded policy engine is closed")
            self._requests.put(request)

    def _run(self, bundle: PolicyBundle, started: Future[None]) -> None:
        try:
            engine = _build_engine(bundle)
        except PolicyRefused as exc:
            self._stopped = True
            # A fresh exception: the caught one's traceback holds frames that hold the engine,
            # which must not reach, and be dropped on, the waiting thread.
            started.set_exception(PolicyEngineUnavailable(f"policies do not load: {exc}"))
            return
        started.set_result(None)
        while (request := self._requests.get()) is not None:
            if isinstance(request, _Reload):
                engine = self._reloaded(engine, request)
                continue
            try:
                request.result.set_result((_evaluate(engine, request.input_json), self.revision))
            except PolicyEngineUnavailable as exc:
                request.result.set_exception(PolicyEngineUnavailable(str(exc)))  # fresh: see above
        del engine  # dropped here, on its own thread

    def _reloaded(self, engine: Any, request: _Reload) -> Any:
        """The engine built from the new bundle, or the old one when the new does not load."""
        try:
            new_engine = _build_engine(request.bundle)
        except PolicyRefused as exc:
            request.result.set_exception(PolicyRefused(exc.path, exc.error))  # fresh: see above
            return engine
        self.revision = request.bundle.revision
        request.result.set_result(None)
        return new_engine


def _evaluate(engine: Any, input_json: str) -> object:
    try:
        decision_engine = engine.clone()
        decision_engine.set_input_json(input_json)
        return json.loads(decision_engine.eval_rule_as_json(DECISION_QUERY))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # regorus raises RuntimeError, and pyo3 panics
        raise PolicyEngineUnavailable(f"embedded engine failed: {_first_line(exc)}") from exc


def _build_engine(bundle: PolicyBundle) -> Any:
    """A regorus engine with every module and the data; PolicyRefused names what did not load."""
    engine: Any = regorus.Engine()  # the stubs lack clone()
    for path, text in sorted(bundle.policies.items()):
        _load(path, lambda text=text, path=path: engine.add_policy(path, text))
    _load(DATA_FILE, lambda: engine.add_data_json(json.dumps(bundle.data)))
    # regorus resolves rules lazily; evaluating once surfaces errors the modules only show together.
    _load(None, lambda: engine.clone().eval_query(_PACKAGE_QUERY))
    return engine


def _load(path: str | None, step: Any) -> None:
    try:
        step()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # regorus raises RuntimeError, and pyo3 panics
        error = _first_line(exc)
        located = _ERROR_LOCATION.search(error)
        raise PolicyRefused(path or (located[1] if located else "(bundle)"), error) from exc


def _first_line(exc: BaseException) -> str:
    # regorus appends a Rust backtrace to its messages; the first lines carry the meaning.
    text = str(exc).strip()
    return " ".join(text.split("\n\nStack backtrace:")[0].split())[:500]

"""The embedded policy engine: the Schakel policies evaluated in-process by regorus.

The policies are compiled once per bundle into a regorus *program* with the decision as its one
entry point, and run on regorus' virtual machine (RVM): about three times faster than
interpreting the rules (``Engine.eval_rule``) for the same decision.

regorus' ``Program`` and ``Rvm`` are *unsendable* (pyo3): used, or dropped, on any thread but the
one that created them, they fail. So every thread that decides builds its own machine from the
bundle in force, the first time it decides and again after a reload, and keeps it in thread-local
storage: no hand-off between threads and no lock on the decision path. A machine is dropped on its
own thread, when that thread next finds it stale (reloaded or closed) or when the thread ends; the
thread-local store lives at module level so that freeing an ``EmbeddedEngine`` never drops
another thread's machine. Each run starts from the program with the new input, so no state is
shared between decisions. Every decision names the revision of the bundle its machine was built
from. Input and output cross the boundary as JSON (by orjson, a tenth of ``json``'s time here),
which gives the same arrays and objects as an OPA server.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
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
_PACKAGE_QUERY = "data.schakel"
_NO_SUCH_RULE = "not a valid rule path"  # regorus' error for an entry point nobody defines
_UNDEFINED_RESULT = '"<undefined>"'  # what the machine gives for an undefined entry point
_ERROR_LOCATION = re.compile(r"--> (\S+?):\d+:\d+")  # regorus' "--> file:line:column"
_SERIALS = itertools.count(1)
_PER_THREAD = threading.local()  # module level: see the module docstring


class EmbeddedEngine:
    """Evaluates ``data.schakel.disclosure.decision`` with regorus, failing closed."""

    name = "embedded"
    bounded = True

    def __init__(self, bundle: PolicyBundle) -> None:
        refused = _refusal(bundle)  # parse errors surface here, at start-up
        if refused is not None:
            raise PolicyEngineUnavailable(f"policies do not load: {refused}")
        self._state = _State(bundle)
        weakref.finalize(self, self._state.close)

    @property
    def revision(self) -> str:
        """Digest of the policy bundle in force."""
        return self._state.bundle.revision

    @property
    def bundle(self) -> PolicyBundle:
        return self._state.bundle

    def decide(self, policy_input: dict[str, Any], *, arrived: float | None = None) -> Decision:
        """Evaluate the decision for one request; any engine failure is PolicyEngineUnavailable.
        It waits on nothing, so when the request arrived does not matter."""
        try:
            input_json = orjson.dumps(policy_input).decode()
        except (TypeError, ValueError) as exc:  # orjson.JSONEncodeError is a TypeError
            raise PolicyEngineUnavailable(f"policy input is not JSON: {exc}") from exc
        bundle, machine = _machine_on_this_thread(self._state)
        document = _evaluate(machine, input_json)
        return decision_from_document(document, policy_revision=bundle.revision)

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
        """Put ``bundle`` in force once it loads; PolicyRefused keeps the old one."""
        refused = _refusal(bundle)
        if refused is not None:
            raise refused
        self._state.bundle = bundle  # each thread rebuilds its machine at its next decision

    def close(self) -> None:
        """Refuse further decisions; each thread drops its machine when it next decides or ends."""
        self._state.close()


class _State:
    """What the threads share: the bundle in force, and whether the engine is closed."""

    def __init__(self, bundle: PolicyBundle) -> None:
        self.serial = next(_SERIALS)
        self.bundle = bundle
        self.closed = False

    def close(self) -> None:
        self.closed = True
        _sweep(getattr(_PER_THREAD, "slots", {}))


@dataclass(frozen=True)
class _Slot:
    """One thread's regorus machine for one EmbeddedEngine, and the bundle it was built from."""

    state: weakref.ref[_State]
    bundle: PolicyBundle
    machine: Any


def _machine_on_this_thread(state: _State) -> tuple[PolicyBundle, Any]:
    """This thread's machine for ``state``, (re)built when missing or stale."""
    if state.closed:
        raise PolicyEngineUnavailable("the embedded policy engine is closed")
    slots: dict[int, _Slot] | None = getattr(_PER_THREAD, "slots", None)
    if slots is None:
        slots = _PER_THREAD.slots = {}
    bundle = state.bundle  # read once: a concurrent reload takes effect at the next decision
    slot = slots.get(state.serial)
    if slot is None or slot.bundle is not bundle:
        slots.pop(state.serial, None)  # the stale machine is dropped here, on its own thread
        _sweep(slots)
        failure: str | None = None
        try:
            machine = _build_machine(bundle, check=False)
        except PolicyRefused as exc:  # loaded once already, so only a broken engine gets here
            failure = str(exc)
        if failure is not None:
            raise PolicyEngineUnavailable(f"policies do not load: {failure}")
        slot = slots[state.serial] = _Slot(weakref.ref(state), bundle, machine)
    return slot.bundle, slot.machine


def _sweep(slots: dict[int, _Slot]) -> None:
    """Drop this thread's machines of closed or freed EmbeddedEngines."""
    for serial, slot in list(slots.items()):
        owner = slot.state()
        if owner is None or owner.closed:
            del slots[serial]


def refusal_of(bundle: PolicyBundle) -> PolicyRefused | None:
    """Why ``bundle`` does not load, naming the file at fault, or None."""
    return _refusal(bundle)


def _refusal(bundle: PolicyBundle) -> PolicyRefused | None:
    """Why ``bundle`` does not load, or None; the trial machine is dropped on this thread.

    The error is a fresh exception raised by the caller: the caught one's traceback holds the
    frame that holds the machine, which must not travel to, and be dropped on, another thread.
    """
    try:
        _build_machine(bundle, check=True)
    except PolicyRefused as exc:
        return PolicyRefused(exc.path, exc.error)
    return None


def _evaluate(machine: Any, input_json: str) -> object:
    try:
        machine.set_input_json(input_json)
        result = machine.execute()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # regorus raises RuntimeError, and pyo3 panics
        failure = _first_line(exc)
    else:
        if result == _UNDEFINED_RESULT:
            raise PolicyEngineUnavailable(
                "embedded engine failed: the decision is undefined", kind="undefined"
            )
        return orjson.loads(result)
    raise PolicyEngineUnavailable(f"embedded engine failed: {failure}")  # fresh: see _refusal


def _build_machine(bundle: PolicyBundle, *, check: bool) -> Any:
    """A regorus machine running the bundle's decision; PolicyRefused names what did not load.

    Compiling parses every module (an error names its file) and checks the rules the decision
    uses. ``check`` also evaluates the whole package: some errors only show when the modules are
    evaluated together.
    """
    modules = sorted(bundle.policies.items())
    data_json = json.dumps(bundle.data)
    program = _load(None, partial(_compile, modules, data_json))
    machine: Any = regorus.Rvm()
    _load(None, partial(machine.load_program, program))
    _load(DATA_FILE, partial(machine.set_data_json, data_json))
    if check:
        _check_package(modules, data_json)
    return machine


def _compile(modules: list[tuple[str, str]], data_json: str) -> Any:
    """The program of the decision; a clear refusal when the bundle does not define it."""
    try:
        return regorus.Program.compile_from_modules(data_json, modules, [DECISION_QUERY])
    except RuntimeError as exc:
        if _first_line(exc) != _NO_SUCH_RULE:
            raise
    raise RuntimeError(f"the bundle defines no {DECISION_QUERY}")


def _check_package(modules: list[tuple[str, str]], data_json: str) -> None:
    """Evaluate every rule of the package with regorus' interpreter, once.

    The program holds only the rules the decision uses; an error in any other rule would still
    make an OPA server refuse the bundle, so the embedded engine refuses it too.
    """
    interpreter: Any = regorus.Engine()
    for path, text in modules:
        _load(path, partial(interpreter.add_policy, path, text))
    _load(DATA_FILE, partial(interpreter.add_data_json, data_json))
    _load(None, partial(interpreter.eval_query, _PACKAGE_QUERY))


def _load(path: str | None, step: Callable[[], Any]) -> Any:
    """``step()``'s result; any failure of it is PolicyRefused naming ``path`` or the error's file."""
    try:
        return step()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # regorus raises RuntimeError, and pyo3 panics
        error = _first_line(exc)
        located = _ERROR_LOCATION.search(error)
        raise PolicyRefused(path or (located[1] if located else "(bundle)"), error) from None


def _first_line(exc: BaseException) -> str:
    # regorus appends a Rust backtrace to its messages; the first lines carry the meaning.
    text = str(exc).strip()
    return " ".join(text.split("\n\nStack backtrace:")[0].split())[:500]

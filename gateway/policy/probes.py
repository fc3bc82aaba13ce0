"""Probe decisions: inputs kept with the policies (``policies/probes.json``) whose outcomes are
known, decided on a bundle before it is put in force and by the readiness probe.

A bundle can load and still not decide: a second module defining ``decision`` differently
compiles, passes ``opa check --strict``, and makes every decision a conflict. Probes catch it,
and a policy that decides otherwise than the probes expect, before any request meets it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.policy.engine import Decision, PolicyEngineUnavailable

PROBES_FILE = "probes.json"
REQUEST = "request"  # the key of a request-level reason in ``codes``


class ProbesError(Exception):
    """The probe file is missing or malformed."""


@dataclass(frozen=True)
class Probe:
    """An input and what the policy must decide for it: allowed categories and reason codes."""

    name: str
    input: dict[str, Any]
    allow: bool
    categories: tuple[str, ...]
    codes: dict[str, str]

    def failure(self, decide: Callable[[dict[str, Any]], Decision]) -> str | None:
        """None when the decision is as expected; else what went wrong, in one line."""
        try:
            decision = decide(self.input)
        except PolicyEngineUnavailable as error:
            return f"probe {self.name!r}: no decision ({error})"
        codes = {reason.category or REQUEST: reason.code for reason in decision.reasons}
        got = (decision.allow, tuple(decision.categories), codes)
        if got != (self.allow, self.categories, self.codes):
            return (
                f"probe {self.name!r}: expected allow={self.allow} categories="
                f"{list(self.categories)} codes={self.codes}, decided allow={decision.allow} "
                f"categories={decision.categories} codes={codes}"
            )
        return None


def load_probes(policies_dir: Path) -> list[Probe]:
    """The probes beside the bundle; at least one, each with a name, an input and its outcome."""
    path = policies_dir / PROBES_FILE
    try:
        document = json.loads(path.read_text("utf-8"))
        probes = [
            Probe(
                name=str(item["name"]),
                input=dict(item["input"]),
                allow=bool(item["expect"]["allow"]),
                categories=tuple(item["expect"]["categories"]),
                codes=dict(item["expect"]["codes"]),
            )
            for item in document["probes"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ProbesError(f"{PROBES_FILE}: {error}") from None
    if not probes:
        raise ProbesError(f"{PROBES_FILE}: no probes")
    return probes


def failures(probes: Sequence[Probe], decide: Callable[[dict[str, Any]], Decision]) -> list[str]:
    """Every probe the engine decides otherwise than expected."""
    return [failure for probe in probes if (failure := probe.failure(decide)) is not None]

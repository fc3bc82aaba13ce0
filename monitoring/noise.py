"""Differential privacy through OpenDP: a table's counts with discrete Laplace noise, and the
epsilon the noise buys, as OpenDP's privacy map states it (pure epsilon-DP, one participant
added or removed: Dwork et al. 2006; the discrete sampler of Canonne, Kamath and Steinke 2020).

OpenDP draws from a cryptographically secure generator and takes no seed, by design: a known
seed would undo the noise. A release therefore keeps its *draw* (each count's noise) sealed;
the same facts with the same draw give the same release, byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from importlib.metadata import version
from typing import Any, Protocol

MECHANISM = "discrete Laplace"


@cache
def _opendp() -> Any:
    """OpenDP, loaded on the first release: a gateway that never publishes one does not carry
    the library's memory."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


@cache
def library() -> str:
    """The library that draws the noise and states its epsilon, with its version."""
    return f"OpenDP {version('opendp')}"


@cache
def _measurement(cells: int, scale: float) -> Any:
    """Discrete Laplace noise of ``scale`` on each of a table's ``cells`` counts; the input
    distance is the L1 distance between two tables of counts."""
    dp = _opendp()
    space = dp.vector_domain(dp.atom_domain(T=int), size=cells), dp.l1_distance(T=int)
    return dp.m.make_laplace(*space, scale=scale)


def epsilon_of(cells: int, scale: float, sensitivity: int) -> float:
    """OpenDP's privacy map: the epsilon of one release of the table, when one person moves its
    counts by at most ``sensitivity`` in all (one row per person, at most that many rows)."""
    return float(_measurement(cells, scale).map(sensitivity))


def scale_for(epsilon: float, sensitivity: int) -> float:
    """The noise scale that spends ``epsilon`` on a table of that sensitivity."""
    return sensitivity / epsilon


def accuracy_95(scale: float, cells: int = 1) -> int:
    """Half-width of the 95 % interval of the noise on a sum of ``cells`` noisy counts.

    One cell: OpenDP's exact bound for the discrete Laplace. A sum: the normal approximation
    with the discrete Laplace variance, 2e^(-1/s) / (1 - e^(-1/s))^2.
    """
    if scale <= 0:
        return 0
    if cells <= 1:
        accuracy = _opendp().discrete_laplacian_scale_to_accuracy(scale=scale, alpha=0.05)
        return math.ceil(float(accuracy))
    decay = math.exp(-1 / scale)
    variance = 2 * decay / (1 - decay) ** 2
    return math.ceil(1.96 * math.sqrt(cells * variance))


class NoiseSource(Protocol):
    """Where a table's noisy counts come from."""

    def noisy_counts(self, counts: Sequence[int], scale: float) -> list[int]:
        """Each count with noise of ``scale`` added."""
        ...


class OpenDpNoise:
    """OpenDP's own measurement, run on the true counts: the noise a release publishes."""

    def noisy_counts(self, counts: Sequence[int], scale: float) -> list[int]:
        return [int(value) for value in _measurement(len(counts), scale)(list(counts))]

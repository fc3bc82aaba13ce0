"""The partner formats by name, as the ingest endpoint's ``{format}`` path segment names them."""

from __future__ import annotations

from adapters.gemeente import GemeenteZgwAdapter
from adapters.ggz import GgzFhirAdapter
from adapters.protocol import Adapter
from adapters.trajectory import TrajectoryJsonAdapter
from adapters.uwv import UwvJsonAdapter, UwvXmlAdapter


def adapters() -> dict[str, Adapter]:
    """A fresh registry of every format (adapters hold no state)."""
    found: list[Adapter] = [
        GgzFhirAdapter(), UwvXmlAdapter(), UwvJsonAdapter(), GemeenteZgwAdapter(),
        TrajectoryJsonAdapter(),
    ]  # fmt: skip
    return {adapter.format: adapter for adapter in found}

"""One reading interface over JSON and XML, so a format's mapping is written once.

Every node knows its location: a JSON Pointer (RFC 6901, as a URI fragment ``#/a/0``) or an
XPath 1.0 path (``/message/benefit/type``, namespace prefixes left out) — errors name it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime
from typing import Any, Protocol
from xml.etree.ElementTree import Element

from adapters.errors import PayloadError, UnknownCode
from adapters.jsonload import escape
from adapters.protocol import DroppedItem

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Node(Protocol):
    location: str

    def child(self, name: str) -> Node | None:
        """The one child of that name, or None."""
        ...

    def children(self, name: str) -> list[Node]:
        """Every child of that name (a JSON array or repeated XML elements)."""
        ...

    def names(self) -> list[str]:
        """The names of all children, to report what was not taken in."""
        ...

    def locations(self, name: str) -> list[str]:
        """Where each child of that name is (a null JSON member too)."""
        ...

    def scalar(self) -> str | int | None:
        """A string or integer value; a structure here is a fault."""
        ...


class JsonNode:
    def __init__(self, value: Any, location: str = "#") -> None:
        self.value = value
        self.location = location

    def child(self, name: str) -> JsonNode | None:
        if not isinstance(self.value, dict):
            raise PayloadError(self.location, "expected an object")
        if name not in self.value or self.value[name] is None:
            return None
        return JsonNode(self.value[name], f"{self.location}/{escape(name)}")

    def children(self, name: str) -> list[Node]:
        node = self.child(name)
        if node is None:
            return []
        if not isinstance(node.value, list):
            raise PayloadError(node.location, "expected an array")
        return [JsonNode(item, f"{node.location}/{i}") for i, item in enumerate(node.value)]

    def names(self) -> list[str]:
        return list(self.value) if isinstance(self.value, dict) else []

    def locations(self, name: str) -> list[str]:
        present = isinstance(self.value, dict) and name in self.value
        return [f"{self.location}/{escape(name)}"] if present else []

    def scalar(self) -> str | int | None:
        if isinstance(self.value, bool) or not isinstance(self.value, str | int):
            raise PayloadError(self.location, "expected a string or an integer")
        return self.value


class XmlNode:
    def __init__(self, element: Element, location: str) -> None:
        self.element = element
        self.location = location

    def child(self, name: str) -> XmlNode | None:
        found = self._matching(name)
        if len(found) > 1:
            raise PayloadError(f"{self.location}/{name}[2]", f"{name} may appear only once here")
        return found[0] if found else None

    def children(self, name: str) -> list[Node]:
        return list(self._matching(name))

    def _matching(self, name: str) -> list[XmlNode]:
        found = [element for element in self.element if local_name(element.tag) == name]
        if len(found) == 1:
            return [XmlNode(found[0], f"{self.location}/{name}")]
        return [XmlNode(e, f"{self.location}/{name}[{i}]") for i, e in enumerate(found, 1)]

    def names(self) -> list[str]:
        return [local_name(element.tag) for element in self.element]

    def locations(self, name: str) -> list[str]:
        return [node.location for node in self._matching(name)]

    def scalar(self) -> str | int | None:
        if len(self.element):
            raise PayloadError(self.location, "expected text, not elements")
        text = (self.element.text or "").strip()
        return text or None


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def not_taken_in(
    node: Node, taken_in: Collection[str], category: str | None = None
) -> list[DroppedItem]:
    """One ``outside-catalogue`` drop per child not taken in, named, at its own location."""
    where = f"no field of {category}" if category else "nothing Schakel takes in"
    return [
        DroppedItem(
            location,
            "outside-catalogue",
            f"{name} maps to {where}; not stored",
            category=category,
            field=name,
        )
        for name in dict.fromkeys(node.names())
        if name not in taken_in
        for location in node.locations(name)
    ]


def text(node: Node, name: str, *, required: bool = False) -> str | None:
    """The text of child ``name``; a missing required child is a fault at its location."""
    found = node.child(name)
    value = None if found is None else found.scalar()
    if value is None:
        if required:
            raise PayloadError(f"{node.location}/{name}", f"{name} is required")
        return None
    return str(value)


def code(node: Node, name: str, mapping: dict[str, str], *, required: bool = False) -> str | None:
    """A partner code mapped to the canonical one; an unknown code names the valid ones."""
    value = text(node, name, required=required)
    if value is None:
        return None
    if value not in mapping:
        found = node.child(name)
        location = found.location if found is not None else f"{node.location}/{name}"
        raise UnknownCode(location, f"unknown code {value!r}; valid: {', '.join(sorted(mapping))}")
    return mapping[value]


def iso_date(node: Node, name: str, *, required: bool = False) -> str | None:
    """A calendar date, ``YYYY-MM-DD``."""
    value = text(node, name, required=required)
    if value is None:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError:
        found = node.child(name)
        location = found.location if found is not None else node.location
        raise PayloadError(location, f"expected a date YYYY-MM-DD, got {value!r}") from None
    return value


def instant(node: Node, name: str, *, required: bool = False) -> datetime | None:
    """A moment with its UTC offset (RFC 3339)."""
    value = text(node, name, required=required)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        found = node.child(name)
        location = found.location if found is not None else node.location
        raise PayloadError(location, f"expected a date-time with offset, got {value!r}")
    return moment


def integer(node: Node, name: str, *, low: int, high: int) -> int | None:
    value = text(node, name)
    if value is None:
        return None
    found = node.child(name)
    location = found.location if found is not None else node.location
    if not re.fullmatch(r"-?\d{1,6}", value) or not low <= int(value) <= high:
        raise PayloadError(location, f"expected a whole number from {low} to {high}")
    return int(value)

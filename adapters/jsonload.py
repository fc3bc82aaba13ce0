"""Strict JSON (RFC 8259) for partner payloads: bounded depth, no duplicate keys, no NaN."""

from __future__ import annotations

import json
from typing import Any

from adapters.errors import MalformedPayload

MAX_DEPTH = 64


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"duplicate key {key!r}")
        document[key] = value
    return document


def load_json(body: bytes, *, root: str = "#") -> Any:
    """Parse ``body``; a fault becomes ``MalformedPayload`` at ``root`` or the too-deep pointer."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedPayload(root, f"not UTF-8 (byte {error.start})") from None
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)
    except RecursionError:
        raise MalformedPayload(root, f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        detail = f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        raise MalformedPayload(root, detail) from None
    except ValueError as error:
        raise MalformedPayload(root, f"not valid JSON: {error}") from None
    _check_depth(document)
    return document


def _check_depth(document: Any) -> None:
    """Walk without recursion; the first value nested beyond ``MAX_DEPTH`` is the fault."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, pointer, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedPayload(f"#{pointer}", f"JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((v, f"{pointer}/{escape(k)}", depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{pointer}/{i}", depth + 1) for i, v in enumerate(value))


def escape(key: str) -> str:
    """A reference token of a JSON Pointer (RFC 6901 §3)."""
    return key.replace("~", "~0").replace("/", "~1")

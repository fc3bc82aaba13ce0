"""W3C Trace Context (``traceparent``): accept a caller's trace id, or start one, and pass it on."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

_TRACEPARENT = re.compile(
    r"^(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<parent_id>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})(?:-.*)?$"
)


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str
    flags: str = "01"

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def new_span_id() -> str:
    return secrets.token_hex(8)


def continue_trace(header: str | None) -> TraceContext:
    """Join the caller's trace when its header is valid (W3C Trace Context §3.2), else start one."""
    if header:
        match = _TRACEPARENT.match(header.strip().lower())
        if match and _valid(match):
            return TraceContext(match["trace_id"], new_span_id(), match["flags"])
    return TraceContext(secrets.token_hex(16), new_span_id())


def _valid(match: re.Match[str]) -> bool:
    if match["version"] == "ff":
        return False
    if match["version"] == "00" and len(match.group(0)) != 55:
        return False
    return match["trace_id"] != "0" * 32 and match["parent_id"] != "0" * 16

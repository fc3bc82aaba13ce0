"""Structured JSON logs (structlog); every line of a request carries its W3C trace id."""

from __future__ import annotations

import logging
import sys
import threading
import warnings
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from bsn import redact_bsns
from gateway.settings import LogFormat

_SECRET_KEYS = {"authorization", "client_assertion", "access_token", "bsn", "password"}


def _redact_bsns(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last line of defence: a BSN-like number in any text (an error message, say) is masked."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact_bsns(value)
    return event


def _drop_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Never let a credential or a BSN into a log line, whatever a caller passes."""
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
    return event


class CurrentStdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stdout`` as it is when a line is logged, not as it was at start-up."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _: TextIO) -> None:
        """The stream is always the current ``sys.stdout``."""


class CurrentStdoutLogger:
    """Writes rendered lines to ``sys.stdout`` as it is when a line is logged.

    The gateway's own lines (structlog) skip the standard library's records, handlers and
    formatter: the access log line of every request cost a tenth of a disclosure that way.
    """

    def __init__(self, lock: threading.RLock | None) -> None:
        self._lock = lock or threading.RLock()  # the stdout handler's: lines never interleave

    def msg(self, line: str) -> None:
        with self._lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def configure_logging(level: str = "INFO", log_format: LogFormat = LogFormat.JSON) -> None:
    """Route structlog and the standard library (uvicorn, alembic) through one JSON renderer."""
    level = level.upper()
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_secrets,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if log_format is LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = CurrentStdoutHandler()
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, _redact_bsns, renderer],
        logger_factory=lambda *_: CurrentStdoutLogger(handler.lock),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_bsns,
            renderer,
        ],
    )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our own access log line carries the trace id; uvicorn's would duplicate it without one.
    logging.getLogger("uvicorn.access").disabled = True
    # Alembic narrates every schema check (the readiness probe makes one); keep its warnings only.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    silence_eddsa_name_warning()


def silence_eddsa_name_warning() -> None:
    """joserfc warns that RFC 9864 renamed "EdDSA" to "Ed25519"; partners still send "EdDSA"."""
    warnings.filterwarnings("ignore", message="EdDSA is deprecated", module="joserfc")

"""Structured logging: every record carries the tenant, request and job it belongs to.

Context lives in contextvars so request handlers, jobs and flows can add to it without
passing a logger around; `log_context(...)` scopes additions.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "log_context", default=MappingProxyType({})
)


def bind(**fields) -> None:
    """Add fields to the current context (request or job) until it ends."""
    _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


class OncePer:
    """A recurring warning said at most once per interval (an outage must not flood the logs)."""

    def __init__(self, logger: logging.Logger, seconds: float = 30.0, clock=time.monotonic):
        self.logger, self.seconds, self.clock = logger, seconds, clock
        self._said_at: float | None = None

    def warning(self, message: str, *args) -> None:
        now = self.clock()
        if self._said_at is None or now - self._said_at >= self.seconds:
            self._said_at = now
            self.logger.warning(message, *args)


def new_request_id() -> str:
    """A request id when the caller sent none (`x-b3-traceid` otherwise): 128 random bits in hex."""
    return os.urandom(16).hex()


def begin(**fields) -> None:
    """Start a new context (a request) with just these fields."""
    _context.set({k: v for k, v in fields.items() if v is not None})


def clear() -> None:
    _context.set({})


@contextlib.contextmanager
def log_context(**fields):
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.context = current_context()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "context", {}),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        context = getattr(record, "context", {})
        if context:
            base += " [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]"
        return base


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("addon")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False

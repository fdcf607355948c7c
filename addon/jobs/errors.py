"""How a failure reads where admins see it (the activity page, job runs, outbox entries)."""

from __future__ import annotations

import re

_SECRETISH = re.compile(
    r"(?i)(bearer\s+|jwt[=:]\s*|(?:token|secret|password|api[_-]?key|authorization)[\"']?\s*[=:]\s*"
    r"[\"']?(?:(?:bearer|basic|jwt)\s+)?)[^\s\"'&,;)]+"
)


def short_error(exc: BaseException) -> str:
    """A one-line reason for admins: the error class and message, with anything token-like masked."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {_SECRETISH.sub(lambda m: m.group(1) + '***', text)}"[:500]

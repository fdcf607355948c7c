"""Short-lived signed tokens issued with a rendered decision form (Connect iframes).

A context token alone proves only "someone is looking at this page"; an action also needs this
token, which we signed when we rendered the form for this tenant, user, title and macro.
"""

from __future__ import annotations

import os
import re
import time

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from addon.lru import BoundedLRU
from addon.platform.signing import signer

ACTION_TOKEN_SECONDS = 15 * 60
REUSE_SECONDS = 60  # a token issued this recently for the same viewer, title and macro is sent again
RECENT_KEPT = 4096
EXTENSION_KEY = "addon.macros.action_tokens"
_SALT = "c4c.macro-action.v1"
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class ActionTokenError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "expired" | "invalid" | "mismatch"


def _serializer() -> URLSafeTimedSerializer:
    return signer(_SALT)


def new_idempotency_key() -> str:
    """One per rendered form: every send of that form is the same decision."""
    return os.urandom(16).hex()


def issue(tenant_id: int, account_id: str, work_id: str, macro_key: str) -> str:
    """A token for this viewer's form on this title. A viewer who reloads the page (or whose other panels
    render) within REUSE_SECONDS is sent the token issued then: the same binding, a minute less of its life,
    and no new signature on every page view."""
    binding = (tenant_id, account_id, str(work_id), macro_key)
    recent: BoundedLRU[tuple, tuple[str, float]] | None = current_app.extensions.get(EXTENSION_KEY)
    if recent is None:
        recent = current_app.extensions.setdefault(EXTENSION_KEY, BoundedLRU(RECENT_KEPT))
    now = time.time()
    found = recent.get(binding)
    if found is not None and 0 <= now - found[1] < REUSE_SECONDS:
        return found[0]
    token = _serializer().dumps({"t": tenant_id, "u": account_id, "w": str(work_id), "m": macro_key})
    recent.put(binding, (token, now))
    return token


def verify(
    token: str,
    *,
    tenant_id: int,
    account_id: str | None,
    work_id: str,
    macro_key: str,
    max_age: int = ACTION_TOKEN_SECONDS,
) -> None:
    """Raise ActionTokenError unless `token` is ours, unexpired, and bound to exactly these."""
    try:
        claims = _serializer().loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise ActionTokenError("expired") from None
    except BadSignature:
        raise ActionTokenError("invalid") from None
    expected = {"t": tenant_id, "u": account_id, "w": str(work_id), "m": macro_key}
    if not account_id or claims != expected:
        raise ActionTokenError("mismatch")

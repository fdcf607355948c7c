"""Connect saves: the iframe's context token says only "someone has this page open", so every change
also carries this short-lived token, signed when we rendered the page for this tenant and this user.

Forge needs none: each Forge call carries a fresh invocation token minted by Atlassian for the user,
which no other site can make a browser send.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from addon.platform.signing import signer

ADMIN_TOKEN_SECONDS = 30 * 60
HEADER = "X-Admin-Token"
_SALT = "c4c.admin-action.v1"


class AdminTokenError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "expired" | "invalid" | "mismatch"


def _serializer() -> URLSafeTimedSerializer:
    return signer(_SALT)


def issue(tenant_id: int, account_id: str) -> str:
    return _serializer().dumps({"t": tenant_id, "u": account_id})


def verify(token: str | None, *, tenant_id: int, account_id: str | None, max_age: int = ADMIN_TOKEN_SECONDS) -> None:
    """Raise AdminTokenError unless the token is ours, unexpired, and bound to this tenant and user."""
    try:
        claims = _serializer().loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise AdminTokenError("expired") from None
    except BadSignature:
        raise AdminTokenError("invalid") from None
    if not account_id or claims != {"t": tenant_id, "u": account_id}:
        raise AdminTokenError("mismatch")

"""Authentication failures, each with an HTTP status and a message safe to show the caller.

`reason` is a short stable code for logs and metrics; `public_message` never contains a
secret, a key or the token itself.
"""

from __future__ import annotations

from typing import Any

import jwt


class AuthError(Exception):
    status = 401

    def __init__(self, reason: str, public_message: str, status: int | None = None):
        super().__init__(f"{reason}: {public_message}")
        self.reason = reason
        self.public_message = public_message
        if status is not None:
            self.status = status


class Forbidden(AuthError):
    status = 403


class KeyUnavailable(AuthError):
    """The signing key could not be fetched: refuse, never accept unverified."""


def unverified_header(token: str, what: str = "token") -> dict[str, Any]:
    """The JWT header, read only to choose algorithm and key; a malformed token is refused here."""
    try:
        return jwt.get_unverified_header(token)
    except (jwt.PyJWTError, RecursionError) as exc:  # RecursionError: JSON nested thousands deep
        raise AuthError("malformed_token", f"The {what} is not a well-formed JWT.") from exc

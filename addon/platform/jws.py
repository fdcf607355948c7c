"""Compact JWS parsing shared by the page-view token checks (Connect HS256, Forge RS256).

Those checks run on every macro view, so they parse a token once and check it in PyJWT's order with
PyJWT's rules rather than through `jwt.decode`, at a fraction of its cost; each has a test holding it
to PyJWT's verdicts (tests/platform/test_*_token_checks.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any, TypeVar

from addon.lru import BoundedLRU
from addon.platform.errors import AuthError

_Known = TypeVar("_Known")


def _b64(segment: str) -> bytes:
    return base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)


def segments(token: str, what: str = "token") -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, claims, signing input and signature of a compact JWS; anything else is malformed.
    Headers with `crit` or an unencoded payload (`b64`: false) are refused: no token we accept uses them."""
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header, claims = json.loads(_b64(header_b64)), json.loads(_b64(claims_b64))
        signature = _b64(signature_b64)
        signing_input = f"{header_b64}.{claims_b64}".encode("ascii")
    except (ValueError, TypeError, AttributeError, binascii.Error, RecursionError) as exc:  # JSON errors: ValueErrors
        raise AuthError("malformed_token", f"The {what} is not a well-formed JWT.") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AuthError("malformed_token", f"The {what} is not a well-formed JWT.")
    return header, claims, signing_input, signature


def plain_header(header: dict[str, Any]) -> None:
    if "crit" in header or header.get("b64", True) is not True:
        raise AuthError("invalid_token", "The token is not valid.")


def check_claims(claims: dict[str, Any], *, required: tuple[str, ...], leeway: int, what: str = "token") -> None:
    """PyJWT's claim checks up to expiry: the required claims present, then iat and nbf not in the future
    and exp not past, give or take `leeway` seconds."""
    for name in required:
        if claims.get(name) is None:
            raise AuthError("missing_claim", f"The {what} lacks the `{name}` claim.")
    now = time.time()
    if whole_seconds(claims, "iat") > now + leeway or ("nbf" in claims and whole_seconds(claims, "nbf") > now + leeway):
        raise AuthError("not_yet_valid", f"The {what} is not valid yet.")
    if whole_seconds(claims, "exp") <= now - leeway:
        raise AuthError("expired", f"The {what} has expired.")


def whole_seconds(claims: dict[str, Any], name: str) -> int:
    """A time claim as PyJWT reads it (`int()` of the value); anything else makes the token invalid."""
    try:
        return int(claims[name])
    except (ValueError, TypeError, OverflowError):
        raise AuthError("invalid_token", "The token is not valid.") from None


def string_claims(claims: dict[str, Any]) -> None:
    """`sub` and `jti`, when present, are strings (PyJWT's rule)."""
    if ("sub" in claims and not isinstance(claims["sub"], str)) or (
        "jti" in claims and not isinstance(claims["jti"], str)
    ):
        raise AuthError("invalid_token", "The token is not valid.")


class VerifiedTokens(BoundedLRU[str, _Known]):
    """Tokens whose signature verified in this process, by their exact text (so any other byte is another
    token, verified in full), with what the check needs to trust them again; 2,048 per process.
    Only the signature is remembered: every other check runs again on every request."""

    def __init__(self, size: int = 2048):
        super().__init__(size)

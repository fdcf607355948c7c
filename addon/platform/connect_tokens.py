"""Connect-style JWTs: requests from Confluence (HS256), signed installs (RS256), and ours.

Written here rather than on the PyPI `atlassian-jwt` package, which has none of: audience on
signed installs, `context-qsh` only where allowed, RS256 installs, base-path stripping, `iss` = our
app key on outgoing tokens; and whose query-string hash disagrees with Atlassian's reference on
some queries (see qsh.py). Tokens are read and written with PyJWT; qsh.py is checked against npm
`atlassian-jwt` in the tests.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt

from addon.platform import jws
from addon.platform.errors import AuthError, unverified_header
from addon.platform.jws import VerifiedTokens
from addon.platform.keys import InstallKeyFetcher
from addon.platform.qsh import CONTEXT_QSH, hash_url, query_string_hash

OUTGOING_LIFETIME_SECONDS = 180


@dataclass(frozen=True)
class ConnectRequest:
    """A verified request from a Connect installation."""

    client_key: str
    account_id: str | None
    context_only: bool  # True when the token carried `context-qsh` (iframe page loads)
    claims: dict[str, Any]


def _translate(exc: jwt.PyJWTError) -> AuthError:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return AuthError("expired", "The token has expired.")
    if isinstance(exc, jwt.ImmatureSignatureError):
        return AuthError("not_yet_valid", "The token is not valid yet.")
    if isinstance(exc, jwt.InvalidAudienceError):
        return AuthError("wrong_audience", "The token was issued for another app.")
    if isinstance(exc, jwt.InvalidIssuerError):
        return AuthError("wrong_issuer", "The token's issuer does not match.")
    if isinstance(exc, jwt.InvalidSignatureError):
        return AuthError("bad_signature", "The token's signature does not verify.")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return AuthError("missing_claim", f"The token lacks the `{exc.claim}` claim.")
    return AuthError("invalid_token", "The token is not valid.")


def _check_qsh(claims: dict[str, Any], method: str, path: str, query_string: str, base_path: str) -> None:
    expected = query_string_hash(method, path, query_string, base_path)
    if not hmac.compare_digest(str(claims.get("qsh", "")), expected):
        raise AuthError("qsh_mismatch", "The token was not issued for this request (query string hash mismatch).")


@dataclass(frozen=True)
class KnownConnectToken:
    """A token whose signature verified: the secret and app key it verified with, and what it said."""

    shared_secret: str = field(repr=False)
    app_key: str
    request: ConnectRequest


def verify_request_token(
    token: str,
    *,
    method: str,
    path: str,
    query_string: str,
    base_path: str,
    shared_secret_for: Callable[[str], str | None],
    app_key: str,
    allow_context_qsh: bool,
    leeway: int = 5,
    verified: VerifiedTokens[KnownConnectToken] | None = None,
) -> ConnectRequest:
    """Verify an HS256 token from Confluence; `shared_secret_for(client_key)` finds the secret.

    The token is parsed once and checked in PyJWT's order with PyJWT's rules (signature, then required
    exp/iat/iss/qsh, iat and nbf not in the future and exp not past, give or take `leeway`, sub and jti
    strings), then audience and qsh: the same checks as `jwt.decode`, at a fraction of its cost on
    every page view (tests/platform/test_connect_token_checks.py holds both to the same answers).
    With `verified`, a token that verified before against the installation's current secret is not parsed
    or verified again (a page's panels and reloads send the same one); its times and its binding to this
    request still are, and the installation is still looked up.
    """
    known = verified.get(token) if verified is not None else None
    if verified is not None and known is not None:
        secret = shared_secret_for(known.request.client_key)
        if secret and known.app_key == app_key and hmac.compare_digest(secret, known.shared_secret):
            jws.check_claims(known.request.claims, required=("exp", "iat", "iss", "qsh"), leeway=leeway)
            _bound_to_request(known.request.claims, method, path, query_string, base_path, allow_context_qsh)
            return known.request
        verified.drop(token)  # reinstalled with a new secret, or uninstalled: checked in full below
    header, claims, signing_input, signature = jws.segments(token)
    if header.get("alg") != "HS256":
        raise AuthError("bad_alg", "Requests from Confluence must be signed with HS256.")
    jws.plain_header(header)
    client_key = claims.get("iss")
    if not isinstance(client_key, str) or not client_key:
        raise AuthError("missing_claim", "The token lacks the `iss` claim.")
    secret = shared_secret_for(client_key)
    if not secret:
        raise AuthError(
            "unknown_installation", "This Confluence site has not installed the app (or has uninstalled it)."
        )
    expected = hmac.digest(secret.encode("utf-8"), signing_input, "sha256")
    if not hmac.compare_digest(expected, signature):
        raise AuthError("bad_signature", "The token's signature does not verify.")
    jws.check_claims(claims, required=("exp", "iat", "iss", "qsh"), leeway=leeway)
    jws.string_claims(claims)
    audience = claims.get("aud")
    if audience is not None:
        audiences = audience if isinstance(audience, list) else [audience]
        if not set(map(str, audiences)) & {app_key, client_key}:
            raise AuthError("wrong_audience", "The token was issued for another app.")
    context_only = _bound_to_request(claims, method, path, query_string, base_path, allow_context_qsh)
    request = ConnectRequest(
        client_key=client_key, account_id=claims.get("sub"), context_only=context_only, claims=claims
    )
    if verified is not None:
        verified.put(token, KnownConnectToken(secret, app_key, request))
    return request


def _bound_to_request(
    claims: dict[str, Any], method: str, path: str, query_string: str, base_path: str, allow_context_qsh: bool
) -> bool:
    """Whether the token is a page-context token (allowed only where `allow_context_qsh`); any other token's
    qsh must be this request's."""
    if claims.get("qsh") == CONTEXT_QSH:
        if not allow_context_qsh:
            raise AuthError(
                "context_qsh_not_allowed",
                "This address needs a token made for this exact request, not a page-context token.",
            )
        return True
    _check_qsh(claims, method, path, query_string, base_path)
    return False


def verify_signed_install(
    token: str,
    *,
    method: str,
    path: str,
    query_string: str,
    base_url: str,
    client_key: str,
    keys: InstallKeyFetcher,
    leeway: int = 5,
) -> dict[str, Any]:
    """Verify the RS256 token on an install/uninstall callback, signed by Atlassian."""
    header = unverified_header(token)
    if header.get("alg") != "RS256":
        raise AuthError(
            "unsigned_install", "Install and uninstall callbacks must be signed by Atlassian (RS256); this one was not."
        )
    key = keys.key_for(header.get("kid"))
    audience = base_url.rstrip("/")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=audience,
            issuer=client_key,
            leeway=leeway,
            options={"require": ["exp", "iat", "iss", "aud", "qsh"]},
        )
    except jwt.PyJWTError as exc:
        raise _translate(exc) from exc
    _check_qsh(claims, method, path, query_string, urlsplit(audience).path)
    return claims


def outgoing_token(
    method: str,
    url: str,
    *,
    app_key: str,
    client_key: str,
    shared_secret: str,
    product_base_url: str,
    now: int | None = None,
) -> str:
    """A JWT for one call from us to the product: iss = app key, aud = [clientKey], 3 minutes."""
    issued_at = int(time.time() if now is None else now)
    claims = {
        "iss": app_key,
        "iat": issued_at,
        "exp": issued_at + OUTGOING_LIFETIME_SECONDS,
        "qsh": hash_url(method, url, product_base_url),
        "aud": [client_key],
    }
    return jwt.encode(claims, shared_secret, algorithm="HS256")

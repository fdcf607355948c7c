"""Forge Invocation Token (FIT) verification.

RS256 only, key by `kid` from Forge's JWKS, `iss` = forge/invocation-token, `aud` = our app
id, `exp`/`nbf`/`iat` with a few seconds of leeway. Anything else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from addon.platform import jws
from addon.platform.errors import AuthError
from addon.platform.jws import VerifiedTokens
from addon.platform.keys import JwksCache

FORGE_ISSUER = "forge/invocation-token"


@dataclass(frozen=True)
class ForgeInvocation:
    """What a verified FIT tells us about the call."""

    installation_id: str
    app_id: str
    api_base_url: str
    cloud_id: str | None
    site_url: str | None
    module_key: str | None
    principal: str | None  # the viewing user's account id; None for system calls
    environment: str | None
    content_id: str | None
    space_key: str | None
    local_id: str | None
    jti: str | None
    claims: dict[str, Any]


@dataclass(frozen=True)
class KnownForgeToken:
    """A token whose signature verified: the app and key it verified with, and what it said."""

    app_id: str
    kid: str
    key: RSAPublicKey  # the JWKS key its signature verified with
    invocation: ForgeInvocation


def verify_invocation_token(
    token: str,
    *,
    app_id: str,
    jwks: JwksCache,
    leeway: int = 5,
    verified: VerifiedTokens[KnownForgeToken] | None = None,
) -> ForgeInvocation:
    """Verify a FIT: parsed once, then the checks `jwt.decode(token, key, algorithms=["RS256"], audience=app_id,
    issuer=FORGE_ISSUER, leeway=leeway, options={"require": ["exp", "nbf", "iat", "iss", "aud"]})` makes, in its
    order and with its rules, at a fraction of its cost on every macro view
    (tests/platform/test_forge_token_checks.py holds both to the same answers). With `verified`, a token whose
    signature verified before is not parsed or verified again; every other check still is."""
    known = verified.get(token) if verified is not None else None
    if verified is not None and known is not None and known.app_id == app_id:
        if jwks.key_for(known.kid) is known.key:  # still published for its kid (a key Forge withdrew fails here)
            _check_claims(known.invocation.claims, app_id, leeway)
            return known.invocation
        verified.drop(token)
    header, claims, signing_input, signature = jws.segments(token, "invocation token")
    if header.get("alg") != "RS256":
        raise AuthError("bad_alg", "Invocation tokens must be signed with RS256.")
    jws.plain_header(header)
    key = jwks.key_for(header.get("kid"))
    try:
        key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise AuthError("bad_signature", "The invocation token's signature does not verify.") from None
    _check_claims(claims, app_id, leeway)
    invocation = _invocation(claims, app_id)
    if verified is not None:
        verified.put(token, KnownForgeToken(app_id, header["kid"], key, invocation))
    return invocation


def _invocation(claims: dict[str, Any], app_id: str) -> ForgeInvocation:
    """What the verified claims say about the call; a token naming no installation is refused."""
    app = claims.get("app")
    if not isinstance(app, dict) or not app.get("installationId") or not app.get("apiBaseUrl"):
        raise AuthError("missing_claim", "The invocation token does not name an installation.")
    if app.get("id") not in (None, app_id):
        raise AuthError("wrong_audience", "The invocation token was issued for another app.")
    context = _json_object(claims.get("context"))
    extension = _json_object(context.get("extension"))
    content = _json_object(extension.get("content"))
    space = _json_object(extension.get("space"))
    module = _json_object(app.get("module"))
    environment = _json_object(app.get("environment"))
    return ForgeInvocation(
        installation_id=str(app["installationId"]),
        app_id=app_id,
        api_base_url=str(app["apiBaseUrl"]).rstrip("/"),
        cloud_id=context.get("cloudId"),
        site_url=context.get("siteUrl"),
        module_key=module.get("key") or context.get("moduleKey"),
        principal=claims.get("principal") or None,
        environment=environment.get("type"),
        content_id=str(content["id"]) if content.get("id") is not None else None,
        space_key=space.get("key"),
        local_id=context.get("localId"),
        jti=claims.get("jti"),
        claims=claims,
    )


def _json_object(value: object) -> dict[str, Any]:
    """A claim that should be a JSON object; anything else reads as an empty one."""
    return value if isinstance(value, dict) else {}


def _check_claims(claims: dict[str, Any], app_id: str, leeway: int) -> None:
    """Required claims, iat, nbf, exp, issuer, audience, then sub and jti: PyJWT's order and rules."""
    jws.check_claims(claims, required=("exp", "nbf", "iat", "iss", "aud"), leeway=leeway, what="invocation token")
    if claims["iss"] != FORGE_ISSUER:
        raise AuthError("wrong_issuer", "The token was not issued by Forge.")
    audience = claims["aud"]
    if not audience:
        raise AuthError("missing_claim", "The invocation token lacks the `aud` claim.")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences) or app_id not in audiences:
        raise AuthError("wrong_audience", "The invocation token was issued for another app.")
    jws.string_claims(claims)

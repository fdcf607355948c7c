"""Forge Invocation Token (FIT) verification.

RS256 only, key by `kid` from Forge's JWKS, `iss` = forge/invocation-token, `aud` = our app
id, `exp`/`nbf`/`iat` with a few seconds of leeway. Anything else is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import jwt

from addon.platform.errors import AuthError, unverified_header
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
    claims: dict


def verify_invocation_token(token: str, *, app_id: str, jwks: JwksCache, leeway: int = 5) -> ForgeInvocation:
    header = unverified_header(token, "invocation token")
    if header.get("alg") != "RS256":
        raise AuthError("bad_alg", "Invocation tokens must be signed with RS256.")
    key = jwks.key_for(header.get("kid"))
    try:
        claims = jwt.decode(
            token, key, algorithms=["RS256"], audience=app_id, issuer=FORGE_ISSUER, leeway=leeway,
            options={"require": ["exp", "nbf", "iat", "iss", "aud"], "verify_iat": True},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("expired", "The invocation token has expired.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise AuthError("not_yet_valid", "The invocation token is not valid yet.") from exc
    except jwt.InvalidAudienceError as exc:
        raise AuthError("wrong_audience", "The invocation token was issued for another app.") from exc
    except jwt.InvalidIssuerError as exc:
        raise AuthError("wrong_issuer", "The token was not issued by Forge.") from exc
    except jwt.InvalidSignatureError as exc:
        raise AuthError("bad_signature", "The invocation token's signature does not verify.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError("missing_claim", f"The invocation token lacks the `{exc.claim}` claim.") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("invalid_token", "The invocation token is not valid.") from exc

    app = claims.get("app")
    if not isinstance(app, dict) or not app.get("installationId") or not app.get("apiBaseUrl"):
        raise AuthError("missing_claim", "The invocation token does not name an installation.")
    if app.get("id") not in (None, app_id):
        raise AuthError("wrong_audience", "The invocation token was issued for another app.")
    context = claims.get("context") if isinstance(claims.get("context"), dict) else {}
    extension = context.get("extension") if isinstance(context.get("extension"), dict) else {}
    content = extension.get("content") if isinstance(extension.get("content"), dict) else {}
    space = extension.get("space") if isinstance(extension.get("space"), dict) else {}
    module = app.get("module") if isinstance(app.get("module"), dict) else {}
    environment = app.get("environment") if isinstance(app.get("environment"), dict) else {}
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

"""The emulator's own signing keys and the tokens Atlassian mints with theirs.

Forge Invocation Tokens (RS256, JWKS), signed-install tokens (RS256, PEM key server) and
Connect HS256 tokens with a real qsh or `context-qsh`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .qsh import CONTEXT_QSH, query_string_hash

FIT_ISSUER = "forge/invocation-token"
FIT_LIFETIME_SECONDS = 60


def _b64url_uint(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class SigningKey:
    """An RSA key pair with a key id, as published in a JWKS or on a PEM key server."""

    kid: str = field(default_factory=lambda: f"emulator-{uuid.uuid4().hex[:12]}")
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def jwk(self) -> dict:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }

    def sign(self, claims: dict) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})


def forge_invocation_token(
    key: SigningKey,
    *,
    app_id: str,
    installation,
    module_key: str,
    module_type: str = "xen:macro",
    extension: dict | None = None,
    local_id: str | None = None,
    principal: str | None = None,
    app_version: str = "1.0.0",
    now: float | None = None,
    lifetime: int = FIT_LIFETIME_SECONDS,
) -> str:
    """A FIT with the claims Forge sends to a remote, as Atlassian's Forge Remote documentation lists them."""
    issued = int(now if now is not None else time.time())
    context = {
        "cloudId": installation.cloud_id,
        "localId": local_id or str(uuid.uuid4()),
        "moduleKey": module_key,
        "siteUrl": installation.site_url,
    }
    if extension is not None:
        context["extension"] = extension
    claims = {
        "app": {
            "id": app_id,
            "appVersion": app_version,
            "installationId": installation.id,
            "apiBaseUrl": installation.api_base_url,
            "environment": {"type": "DEVELOPMENT", "id": installation.environment_id},
            "module": {"type": module_type, "key": module_key},
            "installation": {
                "id": installation.id,
                "contexts": [f"ari:cloud:confluence::site/{installation.cloud_id}"],
            },
        },
        "context": context,
        "iss": FIT_ISSUER,
        "aud": app_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "jti": str(uuid.uuid4()),
    }
    if principal:
        claims["principal"] = principal
    return key.sign(claims)


def signed_install_token(
    key: SigningKey,
    *,
    method: str,
    url_path: str,
    query: str,
    app_base_path: str,
    app_base_url: str,
    client_key: str,
    now: float | None = None,
) -> str:
    """The RS256 JWT Atlassian puts on `installed`/`uninstalled` callbacks."""
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": client_key,
        "aud": app_base_url.rstrip("/"),
        "iat": issued,
        "exp": issued + 180,
        "qsh": query_string_hash(method, url_path, query, app_base_path),
    }
    return key.sign(claims)


def connect_request_token(
    *,
    shared_secret: str,
    client_key: str,
    method: str,
    url_path: str,
    query: str,
    app_base_path: str,
    account_id: str | None = None,
    now: float | None = None,
) -> str:
    """HS256 token Confluence signs with the shared secret for webhooks and lifecycle calls."""
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": client_key,
        "iat": issued,
        "exp": issued + 180,
        "qsh": query_string_hash(method, url_path, query, app_base_path),
    }
    if account_id:
        claims["sub"] = account_id
    return jwt.encode(claims, shared_secret, algorithm="HS256")


def connect_context_token(
    *,
    shared_secret: str,
    client_key: str,
    account_id: str | None,
    context: dict,
    now: float | None = None,
    lifetime: int = 900,
) -> str:
    """The `context-qsh` token an iframe URL and `AP.context.getToken` carry."""
    issued = int(now if now is not None else time.time())
    claims = {"iss": client_key, "iat": issued, "exp": issued + lifetime, "qsh": CONTEXT_QSH, "context": context}
    if account_id:
        claims["sub"] = account_id
    return jwt.encode(claims, shared_secret, algorithm="HS256")


class ConnectTokenError(Exception):
    pass


def verify_connect_request(token: str, *, secret_for, method: str, path: str, query: str, base_path: str):
    """Check an app's outgoing JWT: HS256, known issuer/audience, signature, exp, real qsh.

    `secret_for(claims)` returns (installation, shared_secret) for unverified claims or None.
    """
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise ConnectTokenError(f"malformed JWT: {exc}") from exc
    if header.get("alg") != "HS256":
        raise ConnectTokenError("only HS256 is accepted")
    found = secret_for(unverified)
    if not found:
        raise ConnectTokenError("unknown issuer or audience")
    installation, secret = found
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"verify_aud": False}, leeway=5)
    except jwt.PyJWTError as exc:
        raise ConnectTokenError(f"invalid JWT: {exc}") from exc
    expected = query_string_hash(method, path, query, base_path)
    if claims.get("qsh") != expected:
        raise ConnectTokenError("qsh does not match the request")
    return installation, claims


def opaque_token(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(24)}"


def shared_secret() -> str:
    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()

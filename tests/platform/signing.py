"""Test signing keys and token makers standing in for Atlassian's side of each handshake.

A real HTTP key server (werkzeug, ephemeral port) publishes the JWKS and install keys, so
the app fetches keys exactly as it would from Atlassian.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, jsonify
from werkzeug.serving import make_server

from addon.platform.qsh import query_string_hash


def new_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass
class KeyServer:
    """Serves `/jwks.json` (Forge) and `/install-keys/<kid>` (Connect) over real HTTP."""

    forge_keys: dict = field(default_factory=dict)  # kid -> private key
    install_keys: dict = field(default_factory=dict)  # kid -> private key
    jwks_requests: int = 0
    install_key_requests: int = 0
    failing: bool = False

    def start(self):
        app = Flask("keyserver")

        @app.get("/jwks.json")
        def jwks():
            self.jwks_requests += 1
            if self.failing:
                abort(503)
            keys = []
            for kid, key in self.forge_keys.items():
                jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
                keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
            return jsonify(keys=keys)

        @app.get("/install-keys/<kid>")
        def install_key(kid):
            self.install_key_requests += 1
            if self.failing:
                abort(503)
            if kid not in self.install_keys:
                abort(404)
            return public_pem(self.install_keys[kid]), 200, {"Content-Type": "application/x-pem-file"}

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()


APP_ID = "ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555"


def fit_claims(
    installation="ari:cloud:ecosystem::installation/aaaa-1111",
    *,
    now=None,
    lifetime=60,
    api_base_url="https://api.atlassian.test/ex/confluence/cloud-1",
    cloud_id="cloud-1",
    site_url="https://site-one.atlassian.test",
    principal="557058:user-1",
    **overrides,
) -> dict:
    now = int(time.time()) if now is None else now
    claims = {
        "app": {
            "id": APP_ID,
            "appVersion": "1.0.0",
            "installationId": installation,
            "apiBaseUrl": api_base_url,
            "environment": {"type": "PRODUCTION", "id": "env-1"},
            "module": {"type": "xen:macro", "key": "title-status"},
            "installation": {"id": installation, "contexts": [f"ari:cloud:confluence::site/{cloud_id}"]},
        },
        "context": {
            "cloudId": cloud_id,
            "localId": "local-1",
            "moduleKey": "title-status",
            "siteUrl": site_url,
            "extension": {
                "type": "macro",
                "content": {"id": "12345"},
                "space": {"key": "PUB", "id": "98"},
                "isEditing": False,
            },
        },
        "principal": principal,
        "iss": "forge/invocation-token",
        "aud": APP_ID,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return claims


# module types as the emulator mints them (sandbox/confluence/tokens.py); the app checks keys, not types
TRIGGER_TYPE = "core:trigger"
SCHEDULED_TRIGGER_TYPE = "core:scheduledTrigger"
ADMIN_PAGE_TYPE = "confluence:globalSettings"


def as_module(claims: dict, module_key: str, module_type: str = "xen:macro") -> dict:
    """The claims re-addressed to another manifest module (app.module and context.moduleKey)."""
    claims["app"]["module"] = {"type": module_type, "key": module_key}
    claims["context"]["moduleKey"] = module_key
    if module_type != "xen:macro":
        claims["context"]["extension"] = {"type": module_type}
    return claims


def system_fit_claims(module_key: str, installation="ari:cloud:ecosystem::installation/aaaa-1111", **options) -> dict:
    """A trigger's call (lifecycle, page events, scheduled tick): its module, no user, no extension."""
    module_type = SCHEDULED_TRIGGER_TYPE if module_key == "schedule-tick" else TRIGGER_TYPE
    claims = as_module(fit_claims(installation, principal=None, **options), module_key, module_type)
    claims["context"].pop("extension")
    claims.pop("principal")
    return claims


def admin_fit_claims(installation="ari:cloud:ecosystem::installation/aaaa-1111", **options) -> dict:
    """The admin page's call (confluence:globalSettings module `consonance-admin`) for a user."""
    return as_module(fit_claims(installation, **options), "consonance-admin", ADMIN_PAGE_TYPE)


def sign_rs256(claims: dict, private_key, kid: str) -> str:
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})


def connect_claims(
    client_key: str, method: str, path: str, query: str = "", *, qsh=None, now=None, lifetime=180, **overrides
) -> dict:
    now = int(time.time()) if now is None else now
    claims = {
        "iss": client_key,
        "iat": now,
        "exp": now + lifetime,
        "qsh": qsh if qsh is not None else query_string_hash(method, path, query),
        "sub": "557058:user-1",
    }
    claims.update(overrides)
    return claims


def install_payload(
    client_key="client-key-A",
    shared_secret=None,
    base_url="https://site-a.atlassian.test/wiki",
    app_key="com.consonance.confluence",
) -> dict:
    return {
        "key": app_key,
        "clientKey": client_key,
        "sharedSecret": shared_secret or hashlib.sha256(client_key.encode()).hexdigest(),
        "baseUrl": base_url,
        "displayUrl": base_url,
        "productType": "confluence",
        "serverVersion": "6452",
        "pluginsVersion": "1001.0.0",
        "description": "Atlassian Confluence",
        "serviceEntitlementNumber": "SEN-1",
        "accountId": "557058:admin",
        "eventType": "installed",
        "oauthClientId": "oauth-1",
    }

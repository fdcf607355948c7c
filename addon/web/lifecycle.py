"""Connect lifecycle: the descriptor, signed installs and uninstalls, enable and disable."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, jsonify, request

from addon.platform import services, tenants
from addon.platform.auth import bearer_token, connect_jwt_required, raw_path
from addon.platform.connect_tokens import verify_signed_install
from addon.platform.descriptor import render_descriptor
from addon.platform.errors import AuthError

bp = Blueprint("lifecycle", __name__)
log = logging.getLogger("addon.web.lifecycle")


@bp.get("/atlassian-connect.json")
def descriptor():
    config = current_app.config
    return jsonify(
        render_descriptor(base_url=config["BASE_URL"], app_key=config["APP_KEY"], app_name=config["APP_NAME"])
    )


def _signed_lifecycle_payload(validate) -> dict:
    """The JSON body of an install/uninstall callback (checked by `validate`), after its RS256 signature
    checks out: the same signed-install check for both."""
    payload = request.get_json(silent=True)
    try:
        payload = validate(payload, current_app.config["APP_KEY"])
    except tenants.InstallPayloadError as exc:
        raise AuthError("bad_install_payload", str(exc), status=400) from exc
    token = bearer_token("JWT")
    if not token:
        raise AuthError(
            "unsigned_install",
            "Install and uninstall callbacks must be signed by Atlassian; this one carried no token.",
        )
    config = current_app.config
    verify_signed_install(
        token,
        method=request.method,
        path=raw_path(),
        query_string=request.query_string.decode("utf-8", "surrogateescape"),
        base_url=config["BASE_URL"],
        client_key=payload["clientKey"],
        keys=services.install_keys(),
        leeway=config["JWT_LEEWAY_SECONDS"],
    )
    return payload


@bp.post("/connect/installed")
def installed():
    payload = _signed_lifecycle_payload(tenants.validate_install_payload)
    tenant = tenants.install_connect(payload)
    return jsonify(status="installed", tenant=tenant.id), 200


@bp.post("/connect/uninstalled")
def uninstalled():
    payload = _signed_lifecycle_payload(tenants.validate_uninstall_payload)
    tenant = tenants.find_tenant(tenants.CONNECT, payload["clientKey"])
    # Confluence disables an app before it uninstalls it, so a disabled tenant is uninstalled too
    if tenant is not None and tenant.uninstalled_at is None:
        tenants.uninstall(tenant, actor=payload.get("accountId"))
    return jsonify(status="uninstalled"), 200


@bp.post("/connect/enabled")
@connect_jwt_required(require_enabled=False)
def enabled():
    tenants.set_enabled(g.tenant, True, actor=g.account_id)
    return jsonify(status="enabled")


@bp.post("/connect/disabled")
@connect_jwt_required(require_enabled=False)
def disabled():
    tenants.set_enabled(g.tenant, False, actor=g.account_id)
    return jsonify(status="disabled")

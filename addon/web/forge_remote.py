"""Forge Remote endpoints: every call carries a verified Forge Invocation Token.

Triggers (product events, scheduled) get at most 5 s and are retried by Forge, so they
acknowledge at once and leave the work to background jobs.
"""
from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, request

from addon.platform import tenants
from addon.platform.auth import forge_invocation_required

bp = Blueprint("forge_remote", __name__, url_prefix="/forge")
log = logging.getLogger("addon.web.forge")

MACRO_KEYS = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")


@bp.post("/lifecycle")
@forge_invocation_required
def lifecycle():
    """Forge app lifecycle events; the tenant itself is made by the token check."""
    event = request.get_json(silent=True) or {}
    event_type = event.get("eventType", "")
    if event_type == "avi:forge:uninstalled:app":
        tenants.uninstall(g.tenant, actor=g.account_id)
    log.info("forge lifecycle event %s", event_type or "(none)")
    return jsonify(status="ok", event=event_type)


@bp.post("/macro/<macro_key>")
@forge_invocation_required
def macro(macro_key: str):
    if macro_key not in MACRO_KEYS:
        return jsonify(error="unknown_macro", message=f"There is no macro called {macro_key!r}."), 404
    return jsonify(macro=macro_key, tenant=g.tenant.id, contentId=g.forge.content_id)


@bp.post("/admin")
@forge_invocation_required
def admin():
    """The admin page resolver: who this installation is (configuration arrives with the admin issue)."""
    tenant = g.tenant
    return jsonify(tenant=tenant.id, siteUrl=tenant.site_url, cloudId=tenant.cloud_id, enabled=tenant.enabled)


@bp.post("/events/page")
@forge_invocation_required
def page_event():
    return jsonify(status="accepted"), 202


@bp.post("/scheduled")
@forge_invocation_required
def scheduled():
    return jsonify(status="accepted"), 202

"""Forge Remote endpoints: every call carries a verified Forge Invocation Token.

Triggers (product events, scheduled) get at most 5 s and are retried by Forge, so they
acknowledge at once and leave the work to background jobs.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, jsonify, request

from addon.admin import access
from addon.macros import answers
from addon.macros.views import MACRO_KEYS
from addon.platform import rate_limits, tenants
from addon.platform.auth import forge_invocation_required
from addon.web.request_input import json_object

bp = Blueprint("forge_remote", __name__, url_prefix="/forge")
log = logging.getLogger("addon.web.forge")


@bp.post("/lifecycle")
@forge_invocation_required
def lifecycle():
    """Forge app lifecycle events; the tenant itself is made by the token check."""
    event = json_object()
    event_type = str(event.get("eventType") or "")
    if event_type == "avi:forge:uninstalled:app":
        tenants.uninstall(g.tenant, actor=g.account_id)
    log.info("forge lifecycle event %s", event_type or "(none)")
    return jsonify(status="ok", event=event_type)


@bp.post("/macro/<macro_key>")
@forge_invocation_required
def macro(macro_key: str):
    """The Custom UI shell's `invokeRemote`: the macro's panel as server-rendered HTML plus its view model.

    The title comes from the macro's config inside the signed token, never from the request body.
    """
    if macro_key not in MACRO_KEYS:
        return jsonify(error="unknown_macro", message=f"There is no macro called {macro_key!r}."), 404
    refresh = answers.refresh_requested(request.get_json(silent=True))
    if refresh:
        rate_limits.hit("refresh")
    macro_request = answers.forge_request(
        g.tenant,
        g.forge,
        macro_key,
        refresh=refresh,
        admin_check=access.admin_check(g.tenant, user_token=g.forge_user_token, account_id=g.forge.principal),
    )
    payload = answers.forge_payload(macro_request, g.forge, g.forge_user_token)
    return current_app.response_class(payload, mimetype="application/json")


@bp.post("/events/page")
@forge_invocation_required
def page_event():
    """Page created/updated: recorded once and handed to a background job (never handled in the request)."""
    from addon.flows import page_events

    return jsonify(page_events.accept(g.tenant, page_events.from_forge(request.get_json(silent=True)))), 202


@bp.post("/scheduled")
@forge_invocation_required
def scheduled():
    """Forge's scheduled trigger: queue what is due (deduped per period, so ticks may overlap)."""
    from addon.jobs.schedule import tick

    queued = [kind for tenant_id, kind, _period in tick() if tenant_id == g.tenant.id]
    return jsonify(status="accepted", queued=queued), 202

"""Forge Remote endpoints: every call carries a verified Forge Invocation Token.

Triggers (product events, scheduled) get at most 5 s and are retried by Forge, so they
acknowledge at once and leave the work to background jobs.
"""

from __future__ import annotations

import logging
from functools import partial

from flask import Blueprint, current_app, g, jsonify, request

from addon.admin import access
from addon.macros import render, service
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
    refresh = refresh_requested(request.get_json(silent=True))
    if refresh:
        rate_limits.hit("refresh")
    payload = macro_payload(g.tenant, g.forge, g.forge_user_token, macro_key, refresh=refresh)
    return current_app.response_class(payload, mimetype="application/json")


def refresh_requested(body) -> bool:
    """Refresh, asked for in the body or in the bridge call's payload."""
    body = body if isinstance(body, dict) else {}
    call = body.get("call") if isinstance(body.get("call"), dict) else {}
    options = call.get("payload") if isinstance(call.get("payload"), dict) else body
    return bool(options.get("refresh"))


def macro_payload(
    tenant, invocation, user_token: str | None, macro_key: str, refresh: bool = False, memoised_only: bool = False
) -> str | None:
    """The JSON answer for a verified invocation. `memoised_only` (the macro lane): only a payload this
    process has built for the current view, filled with this viewer's form values; else None."""
    config = macro_config(invocation)
    result = service.panel_view(
        service.MacroRequest(
            tenant=tenant,
            macro_key=macro_key,
            title_ref=str(config.get("title") or ""),
            page_id=invocation.content_id,
            refresh=refresh,
            admin_check=partial(
                access.viewer_administers_site, tenant, user_token=user_token, account_id=invocation.principal
            ),
        ),
        memoised_only=memoised_only,
    )
    if result is None:
        return None
    form = (
        render.decision_form(result, tenant_id=tenant.id, account_id=invocation.principal, with_action_token=False)
        if user_token
        else None
    )
    return render.payload_json(result, form=form, memoised_only=memoised_only)


def macro_config(invocation) -> dict:
    """The macro's parameters as the editor set them (Forge puts them in the token's extension config)."""
    context = invocation.claims.get("context") or {}
    extension = context.get("extension") if isinstance(context.get("extension"), dict) else {}
    config = extension.get("config")
    return config if isinstance(config, dict) else {}


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

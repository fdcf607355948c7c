"""Connect-style routes: macro iframes and their panel/action-token endpoints (page-context tokens
allowed), static export renderings and webhooks (request-bound tokens only)."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, g, jsonify, make_response, render_template, request

from addon.admin import access
from addon.decisions.service import AccessUnavailable
from addon.gateways import NotConfigured, gateways
from addon.macros import action_tokens, answers, page_binding, render, service
from addon.macros.answers import frame_headers
from addon.macros.views import MACRO_KEYS, MACRO_NAMES
from addon.platform import rate_limits
from addon.platform.auth import connect_jwt_required

bp = Blueprint("connect", __name__, url_prefix="/connect")
log = logging.getLogger("addon.web.connect")

WEBHOOK_EVENTS = ("page_created", "page_updated")


def framed_by_tenant(response):
    """Only the tenant's own Confluence site may frame our pages; scripts only from us and that site's all.js."""
    response.headers.extend(frame_headers(g.tenant.site_url))
    return response


def _macro_request(macro_key: str, refresh: bool = False) -> service.MacroRequest:
    return answers.connect_request(
        g.tenant,
        macro_key,
        request.args,
        account_id=g.account_id,
        refresh=refresh,
        admin_check=access.admin_check(g.tenant, user_token=None, account_id=g.account_id),
    )


@bp.get("/macro/<macro_key>")
@connect_jwt_required(allow_context_qsh=True)
def macro(macro_key: str):
    """The macro iframe: the panel rendered in place, then our script wires Refresh, the form and resizing."""
    if macro_key not in MACRO_KEYS:
        abort(404)
    page = answers.connect_page(_macro_request(macro_key), g.account_id, request.args, request.script_root)
    return framed_by_tenant(make_response(page))


@bp.get("/macro/<macro_key>/panel")
@connect_jwt_required(allow_context_qsh=True)
def macro_panel(macro_key: str):
    """The panel again as JSON (Refresh, or after a decision), for the iframe's script."""
    if macro_key not in MACRO_KEYS:
        abort(404)
    refresh = request.args.get("refresh") == "1"
    if refresh:
        rate_limits.hit("refresh")
    result = service.panel(_macro_request(macro_key, refresh=refresh))
    form = render.decision_form(result, tenant_id=g.tenant.id, account_id=g.account_id, with_action_token=True)
    return current_app.response_class(render.payload_json(result, form=form), mimetype="application/json")


@bp.get("/macro/<macro_key>/action-token")
@connect_jwt_required(allow_context_qsh=True)
def action_token(macro_key: str):
    """A new action token for a form whose token expired while the editor was typing (the text stays put);
    only for a title a panel on the named page shows (read from the page, as for the decision itself)."""
    work_id, page_id = request.args.get("workId", ""), request.args.get("pageId", "")
    if macro_key not in MACRO_KEYS or not work_id or not g.account_id:
        abort(404)
    try:
        client = gateways().confluence(g.tenant)
        # the viewer must be able to open the page before anything is said about what it shows
        readable = bool(page_id) and page_binding.may(client, page_id, g.account_id, "read")
        shown = page_binding.titles_on_page(g.tenant, client, page_id) if readable else set()
    except (AccessUnavailable, NotConfigured):
        return jsonify(error="confluence_unavailable", message="Confluence did not answer; try again shortly."), 503
    if work_id not in shown:
        return jsonify(
            error="title_not_on_page",
            message="This page does not show that title, so no form can be issued for it. Reload the page.",
        ), 403
    return jsonify(actionToken=action_tokens.issue(g.tenant.id, g.account_id, work_id, macro_key))


@bp.get("/macro-static/<macro_key>")
@connect_jwt_required()
def macro_static(macro_key: str):
    """Export (PDF, Word, email): the same panel without controls or scripts."""
    if macro_key not in MACRO_KEYS:
        abort(404)
    result = service.panel(_macro_request(macro_key))
    page = render_template(
        "connect_macro.html",
        macro_key=macro_key,
        macro_name=MACRO_NAMES[macro_key],
        panel=render.render_panel(result.view, static=True),
        static=True,
        all_js=None,
        urls=answers.page_urls(macro_key, request.script_root),
        title_ref=request.args.get("title", ""),
        page_id=request.args.get("pageId", ""),
    )
    return framed_by_tenant(make_response(page))


@bp.post("/webhooks/<event>")
@connect_jwt_required()
def webhook(event: str):
    if event not in WEBHOOK_EVENTS:
        abort(404)
    from addon.flows import page_events

    body = request.get_json(silent=True)
    page_event = page_events.from_connect(body if isinstance(body, dict) else {})  # not an object: no page event
    return jsonify(page_events.accept(g.tenant, page_event)), 202

"""Connect-style routes: macro iframes and the configure page (page-context tokens allowed),
static export renderings and webhooks (request-bound tokens only)."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, g, jsonify, make_response, render_template, request

from addon.platform.auth import connect_jwt_required

bp = Blueprint("connect", __name__, url_prefix="/connect")
log = logging.getLogger("addon.web.connect")

MACRO_KEYS = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")
WEBHOOK_EVENTS = ("page_created", "page_updated")


def framed_by_tenant(response):
    """Only the tenant's own Confluence site may frame our pages."""
    site = g.tenant.site_url or "'none'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; frame-ancestors {site}; base-uri 'none'; form-action 'self'")
    return response


@bp.get("/macro/<macro_key>")
@connect_jwt_required(allow_context_qsh=True)
def macro(macro_key: str):
    if macro_key not in MACRO_KEYS:
        abort(404)
    response = render_template("connect_macro.html", macro_key=macro_key, title_ref=request.args.get("title", ""),
                               page_id=request.args.get("pageId", ""))
    return framed_by_tenant(make_response(response))


@bp.get("/macro-static/<macro_key>")
@connect_jwt_required()
def macro_static(macro_key: str):
    if macro_key not in MACRO_KEYS:
        abort(404)
    response = render_template("connect_macro.html", macro_key=macro_key, title_ref=request.args.get("title", ""),
                               page_id=request.args.get("pageId", ""), static=True)
    return framed_by_tenant(make_response(response))


@bp.post("/webhooks/<event>")
@connect_jwt_required()
def webhook(event: str):
    if event not in WEBHOOK_EVENTS:
        abort(404)
    return jsonify(status="accepted"), 202

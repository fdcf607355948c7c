"""The Connect macro editor: the title picker page Confluence opens from a macro's Edit button.

Opened in an iframe with a page-context token; its script searches `/connect/titles/search` and
saves with `AP.confluence.saveMacro`, so this view only authenticates and renders the shell.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, g, make_response, render_template, request, url_for

from addon.macros.answers import all_js_url
from addon.macros.views import MACRO_KEYS, MACRO_NAMES
from addon.platform.auth import connect_jwt_required
from addon.web.connect import framed_by_tenant

bp = Blueprint("macro_editor", __name__, url_prefix="/connect")
log = logging.getLogger("addon.web.macro_editor")
MAX_TITLE_REF = 40


@bp.get("/macro-editor")
@connect_jwt_required(allow_context_qsh=True)
def macro_editor():
    """`?macro=<key>&title=<current setting>`: the picker for that macro's title parameter."""
    macro_key = request.args.get("macro", "")
    if macro_key not in MACRO_KEYS:
        abort(404)
    current = request.args.get("title", "").strip()[:MAX_TITLE_REF]
    log.info("macro editor opened", extra={"macro": macro_key, "tenant": g.tenant.id})
    page = render_template(
        "macros/editor.html",
        macro_key=macro_key,
        macro_name=MACRO_NAMES[macro_key],
        current=current,
        all_js=all_js_url(g.tenant.site_url),
        search_url=url_for("actions.connect_title_search"),
    )
    return framed_by_tenant(make_response(page))

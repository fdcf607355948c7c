"""A macro's answer as each transport sends it: the Connect iframe page (HTML) and the Forge resolver's
JSON payload, each built in full (`connect_page`, `forge_payload`) or only when this process already
holds it (`cached_connect_page`, `cached_forge_payload`: the macro lane's question, answered from
memory and the shared cache, else None). The blueprints and the lane call these; the tokens are
checked before, by their callers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template

from addon.macros import render, service
from addon.macros.views import MACRO_NAMES
from addon.platform.models import Tenant

ALL_JS_PATH = "/atlassian-connect/all.js"


def frame_headers(site_url: str | None) -> tuple[tuple[str, str], ...]:
    """The framing headers of a page for a tenant whose site is `site_url` (route and lane send the same)."""
    site = site_url or "'none'"
    scripts = "'self'" + (f" {site}" if site_url else "")
    return (
        (
            "Content-Security-Policy",
            f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'; frame-ancestors {site}; base-uri 'none'; form-action 'self'; object-src 'none'",
        ),
        ("Referrer-Policy", "no-referrer"),
    )


@functools.lru_cache(maxsize=256)
def all_js_url(site_url: str | None) -> str | None:
    """The tenant site's all.js (the AP bridge: resizing, fresh context tokens); none unless plain http(s)."""
    return f"{site_url}{ALL_JS_PATH}" if site_url and urlsplit(site_url).scheme in ("http", "https") else None


# --- Connect iframe --------------------------------------------------------------------------------


def connect_request(
    tenant: Tenant,
    macro_key: str,
    args: Mapping[str, str],
    *,
    account_id: str | None,
    refresh: bool = False,
    admin_check: Callable[[], bool] | None = None,
) -> service.MacroRequest:
    """The iframe's request. Its `title` and `pageId` are the address's, which a context token does not sign:
    a logged-in viewer of the site may read any title (as the site's people can in Consonance's own
    search), someone not logged in (no `sub`) none."""
    return service.MacroRequest(
        tenant=tenant,
        macro_key=macro_key,
        title_ref=args.get("title", ""),
        page_id=args.get("pageId") or None,
        refresh=refresh,
        admin_check=admin_check,
        viewer_may_name_title=bool(account_id),
    )


def _page_key(result: service.PanelResult, tenant: Tenant, args: Mapping[str, str]) -> tuple | None:
    if result.render_key is None:
        return None
    return (
        "connect_macro",
        result.render_key,
        args.get("title", ""),
        args.get("pageId", ""),
        all_js_url(tenant.site_url),
    )


PAGE_URLS_EXTENSION = "addon.macros.page_urls"


def page_urls(macro_key: str, script_root: str = "") -> dict[str, str]:
    """The addresses a macro's iframe page names (its stylesheet and script, the routes its script calls), as
    `url_for` builds them for an app served under `script_root`: built once per process, so that a first view
    answered by the macro lane needs no request context (~0.35 ms of CPU a view to make and tear down)."""
    known: dict[tuple[str, str], dict[str, str]] = current_app.extensions.setdefault(PAGE_URLS_EXTENSION, {})
    urls = known.get((macro_key, script_root))
    if urls is None:
        build = current_app.url_map.bind("localhost", script_name=script_root or "/").build
        urls = known[(macro_key, script_root)] = {
            "panel_css": build("static", {"filename": "customui/panel.css"}),
            "macro_js": build("static", {"filename": "connect/macro.js"}),
            "panel": build("connect.macro_panel", {"macro_key": macro_key}),
            "action_token": build("connect.action_token", {"macro_key": macro_key}),
            "decision": build("actions.connect_decision", {}),
        }
    return urls


def connect_page(
    request: service.MacroRequest, account_id: str | None, args: Mapping[str, str], script_root: str = ""
) -> str:
    """The iframe page for a verified viewer, filled with this viewer's form values; `script_root`: where the
    app is served (a request's `script_root`), for the addresses the page names."""
    result = service.panel(request)
    tenant = request.tenant
    form = render.decision_form(result, tenant_id=tenant.id, account_id=account_id, with_action_token=True)
    return render.cached_html(
        _page_key(result, tenant, args),
        form,
        lambda slots: render_template(
            "connect_macro.html",
            macro_key=request.macro_key,
            macro_name=MACRO_NAMES[request.macro_key],
            panel=render.render_panel(result.view, form=slots),
            static=False,
            all_js=all_js_url(tenant.site_url),
            urls=page_urls(request.macro_key, script_root),
            title_ref=args.get("title", ""),
            page_id=args.get("pageId", ""),
        ),
    )


def cached_connect_page(request: service.MacroRequest, account_id: str | None, args: Mapping[str, str]) -> str | None:
    """`connect_page` when this process has rendered it for the current view, else None (nothing rendered)."""
    result = service.cached_panel(request)
    if result is None:
        return None
    key = _page_key(result, request.tenant, args)
    if key is None:
        return None
    form = render.decision_form(result, tenant_id=request.tenant.id, account_id=account_id, with_action_token=True)
    return render.memoised_html(key, form)


# --- Forge resolver ---------------------------------------------------------------------------------


def macro_config(invocation: Any) -> dict:
    """The macro's parameters as the editor set them (Forge puts them in the token's extension config)."""
    context = invocation.claims.get("context") or {}
    found = context.get("extension")
    extension: dict = found if isinstance(found, dict) else {}
    config = extension.get("config")
    return config if isinstance(config, dict) else {}


def refresh_requested(body: Any) -> bool:
    """Refresh, asked for in the body or in the bridge call's payload."""
    body = body if isinstance(body, dict) else {}
    found = body.get("call")
    call: dict = found if isinstance(found, dict) else {}
    payload = call.get("payload")
    options: dict = payload if isinstance(payload, dict) else body
    return bool(options.get("refresh"))


def forge_request(
    tenant: Tenant,
    invocation: Any,
    macro_key: str,
    *,
    refresh: bool = False,
    admin_check: Callable[[], bool] | None = None,
) -> service.MacroRequest:
    """The title comes from the macro's config inside the signed token, never from the request body."""
    return service.MacroRequest(
        tenant=tenant,
        macro_key=macro_key,
        title_ref=str(macro_config(invocation).get("title") or ""),
        page_id=invocation.content_id,
        refresh=refresh,
        admin_check=admin_check,
    )


def _forge_form(result: service.PanelResult, request: service.MacroRequest, invocation: Any, user_token: str | None):
    if not user_token:
        return None
    return render.decision_form(
        result, tenant_id=request.tenant.id, account_id=invocation.principal, with_action_token=False
    )


def forge_payload(request: service.MacroRequest, invocation: Any, user_token: str | None) -> str:
    """The JSON answer for a verified invocation (the decision form only with the viewer's own token)."""
    result = service.panel(request)
    return render.payload_json(result, form=_forge_form(result, request, invocation, user_token))


def cached_forge_payload(request: service.MacroRequest, invocation: Any, user_token: str | None) -> str | None:
    """`forge_payload` when this process has built it for the current view, else None."""
    result = service.cached_panel(request)
    if result is None:
        return None
    return render.cached_payload_json(result, form=_forge_form(result, request, invocation, user_token))

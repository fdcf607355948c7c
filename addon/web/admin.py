"""The admin pages, both transports: configuration, activity (with Retry) and the audit log.

Forge: the Custom UI admin page calls `/forge/admin...` through `invokeRemote`, each call with a fresh
invocation token and the viewing user's token. Connect: `/connect/admin` is the configure page iframe
(context token allowed for the page and its reads); every change also needs the admin token signed
into the page for this site and user. Either way, Confluence is asked whether the user is a site admin.
"""

from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, make_response, render_template, request

from addon.admin import activity, configuration, connection, consonance_host, csrf, onboarding
from addon.confluence.errors import ConfluenceError
from addon.consonance.errors import ConsonanceError
from addon.flows import pipeline_summaries
from addon.platform import rate_limits
from addon.platform.auth import connect_jwt_required, forge_invocation_required
from addon.platform.rate_limits import rate_limited
from addon.settings.service import get_settings
from addon.web.request_input import json_object
from addon.web.site_admin import AdminRefused, connect_site_admin, forge_site_admin

bp = Blueprint("admin", __name__)
log = logging.getLogger("addon.web.admin")

VIEWS = ("configuration", "activity", "audit")


@bp.errorhandler(AdminRefused)
def _refused(exc: AdminRefused):
    html = render_template("admin/refused.html", message=exc.message)
    if request.method == "GET" and request.path.rstrip("/") == "/connect/admin":
        return _framed(
            make_response(
                render_template(
                    "admin/connect_page.html", view_html=html, admin_token="", all_js=_all_js_url(), refused=True
                ),
                exc.status,
            )
        )
    return jsonify(error=exc.error, message=exc.message, html=html), exc.status


# --- who is asking: site admins by addon/web/site_admin.py; changes on Connect also need the admin token ---


def _connect_change_allowed() -> None:
    """A context token alone may not change anything: the page's admin token must come with it."""
    if not g.connect.context_only:
        return
    try:
        csrf.verify(request.headers.get(csrf.HEADER), tenant_id=g.tenant.id, account_id=g.account_id)
    except csrf.AdminTokenError as exc:
        if exc.reason == "expired":
            raise AdminRefused(
                401,
                "form_expired",
                "This page has been open too long. Reload it, then save again (what you typed is still in the form).",
            ) from None
        raise AdminRefused(
            403, "bad_admin_token", "This form was not issued for you on this site; reload the page."
        ) from None


# --- what both transports answer -------------------------------------------------------------------


def _view_html(name: str, client) -> str:
    tenant = g.tenant
    if name == "activity":
        return render_template("admin/activity.html", view=activity.activity_view(tenant, client), active="activity")
    if name == "audit":
        return render_template("admin/audit.html", rows=activity.audit_view(tenant, client), active="audit")
    host = get_settings(tenant).consonance_host
    model = configuration.configuration_view(tenant, client, stages=connection.stage_names(tenant, host))
    return render_template("admin/configuration.html", view=model, active="configuration")


def _view(name: str, client):
    if name not in VIEWS:
        return jsonify(error="unknown_view", message="There is no such admin page."), 404
    return jsonify(view=name, html=_view_html(name, client))


def _form() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise AdminRefused(400, "bad_request", "Send the form as JSON.")
    form = body.get("form", body)
    if not isinstance(form, dict):
        raise AdminRefused(400, "bad_request", "Send the form as JSON.")
    return form


def _save(actor: str, client):
    result = configuration.save_configuration(g.tenant, _form(), actor, client)
    answer = {
        "ok": result.ok,
        "errors": result.errors,
        "message": result.message,
        "changed": result.changed,
        "connection": result.connection.as_dict() if result.connection else None,
    }
    if result.ok:
        answer["html"] = _view_html("configuration", client)
    return jsonify(answer), (200 if result.ok else 422)


def _test_connection():
    form = _form()
    settings = get_settings(g.tenant)
    host = str(form.get("consonance_host") or settings.consonance_host or "").strip()
    typed_key = str(form.get(configuration.API_KEY_FIELD) or "").strip()
    problems = configuration.flatten_errors(configuration.SCHEMA.validate({"consonance_host": host}))
    if not host:
        problems["consonance_host"] = "Enter the address of your Consonance first, e.g. https://web.consonance.app"
    try:
        api_key = consonance_host.key_for(g.tenant, host, typed_key) if host else typed_key
    except consonance_host.KeyRequired as exc:
        api_key, problems[configuration.API_KEY_FIELD] = "", str(exc)
    if not api_key and configuration.API_KEY_FIELD not in problems:
        problems[configuration.API_KEY_FIELD] = consonance_host.KEY_MISSING
    if problems:
        return jsonify(ok=False, errors=problems, headline=next(iter(problems.values())), checks=[]), 422
    result = connection.try_connection(host, api_key)
    log.info("connection test to %s: %s", host, "ok" if result.ok else "failed", extra={"tenant": g.tenant.id})
    if result.host_refused:
        return jsonify(ok=False, errors={"consonance_host": result.headline}, headline=result.headline, checks=[]), 422
    connection.remember_capabilities(g.tenant, host, api_key, result, actor=g.get("admin_actor"))
    capabilities_html = render_template("admin/_capabilities.html", rows=result.as_dict()["capabilities"])
    return jsonify(
        errors={}, keySource="typed" if typed_key else "saved", capabilitiesHtml=capabilities_html, **result.as_dict()
    )


def _search(kind: str, client):
    body = json_object() if request.method == "POST" else {}
    text = str(request.values.get("q") or body.get("q") or "")[:100]
    space = str(request.values.get("space") or body.get("space") or "")[:255]
    try:
        if kind == "spaces":
            results = configuration.search_spaces(client, text)
        else:
            results = configuration.search_pages(client, text, space_key=space)
    except ConfluenceError as exc:
        log.warning("picker search failed: %s", exc)
        return jsonify(
            results=[], message="Confluence did not answer the search just now; type again in a moment."
        ), 502
    return jsonify(results=results)


def _retry(entry_id: int, actor: str, client):
    if not activity.retry_write(g.tenant, entry_id, actor):
        return jsonify(
            ok=False,
            message="That write is no longer failed (already retried or delivered).",
            html=_view_html("activity", client),
        ), 409
    return jsonify(
        ok=True,
        message="Queued again: it is delivered as soon as a worker is free.",
        html=_view_html("activity", client),
    )


def _regenerate(cadence: str, actor: str, client):
    if not pipeline_summaries.request_regeneration(g.tenant, cadence, actor):
        return jsonify(
            ok=False,
            message="Connect Consonance first: summaries are made from it.",
            html=_view_html("activity", client),
        ), 409
    return jsonify(
        ok=True,
        message="Regenerating from Consonance: the page's generated part is rewritten in a minute or two; "
        "commentary and action items are kept.",
        html=_view_html("activity", client),
    )


def _onboarding(action: str, actor: str):
    """Sync now, and "Create pages for existing titles": count, create, progress (addon/admin/onboarding.py)."""
    tenant = g.tenant
    try:
        if action in ("sync-now", "create-pages"):
            rate_limits.hit("admin_save")  # writes; count and progress are reads the page polls
        if action == "sync-now":
            return jsonify(ok=True, **onboarding.sync_now(tenant, actor))
        if action == "progress":
            return jsonify(ok=True, **onboarding.progress(tenant))
        filters, errors = onboarding.Filters.from_form(_form())
        if filters is None:  # the form had errors
            return jsonify(ok=False, errors=errors, message="Put right the filters marked."), 422
        if action == "count":
            return jsonify(ok=True, **onboarding.count(tenant, filters))
        return jsonify(ok=True, **onboarding.create_pages(tenant, filters, actor))
    except onboarding.NotConnected:
        return jsonify(ok=False, message="Connect Consonance first, on the Configuration tab."), 409
    except ConsonanceError as exc:
        log.warning("onboarding %s: Consonance did not answer: %s", action, exc)
        return jsonify(ok=False, message="Consonance did not answer just now; try again in a moment."), 502


ONBOARDING_ACTIONS = 'any("sync-now", count, "create-pages", progress)'


# --- Forge ---------------------------------------------------------------------------------------


def _forge_body() -> dict:
    body = json_object()
    call = body.get("call")
    payload = call.get("payload") if isinstance(call, dict) else None
    return payload if isinstance(payload, dict) else body


@bp.post("/forge/admin")
@forge_invocation_required
def forge_page():
    """The admin page resolver: one of the three views as HTML (configuration unless asked otherwise)."""
    _actor, client = forge_site_admin()
    return _view(str(_forge_body().get("view") or "configuration"), client)


@bp.post("/forge/admin/settings")
@forge_invocation_required
@rate_limited("admin_save")
def forge_save():
    actor, client = forge_site_admin()
    return _save(actor, client)


@bp.post("/forge/admin/test-connection")
@forge_invocation_required
@rate_limited("admin_save")
def forge_test_connection():
    forge_site_admin()
    return _test_connection()


@bp.post("/forge/admin/<any(spaces, pages):kind>")
@forge_invocation_required
def forge_search(kind: str):
    _actor, client = forge_site_admin()
    return _search(kind, client)


@bp.post("/forge/admin/outbox/<int:entry_id>/retry")
@forge_invocation_required
@rate_limited("admin_save")
def forge_retry(entry_id: int):
    actor, client = forge_site_admin()
    return _retry(entry_id, actor, client)


@bp.post("/forge/admin/summaries/<any(weekly, monthly):cadence>/regenerate")
@forge_invocation_required
def forge_regenerate(cadence: str):
    actor, client = forge_site_admin()
    return _regenerate(cadence, actor, client)


@bp.post(f"/forge/admin/onboarding/<{ONBOARDING_ACTIONS}:action>")
@forge_invocation_required
def forge_onboarding(action: str):
    actor, _client = forge_site_admin()
    return _onboarding(action, actor)


# --- Connect -------------------------------------------------------------------------------------


def _all_js_url() -> str | None:
    """The site's own all.js (AP): fresh context tokens and iframe resizing come from it."""
    from addon.macros.answers import all_js_url

    tenant = getattr(g, "tenant", None)
    return all_js_url(tenant.site_url if tenant is not None else None)


def _framed(response):
    from addon.web.connect import framed_by_tenant

    return framed_by_tenant(response) if getattr(g, "tenant", None) is not None else response


@bp.get("/connect/admin")
@connect_jwt_required(allow_context_qsh=True)
def connect_page():
    """The configure page: the configuration view in place, plus the admin token its changes must carry."""
    actor, client = connect_site_admin()
    page = render_template(
        "admin/connect_page.html",
        view_html=_view_html("configuration", client),
        admin_token=csrf.issue(g.tenant.id, actor),
        all_js=_all_js_url(),
        refused=False,
    )
    return _framed(make_response(page))


@bp.get("/connect/admin/view/<name>")
@connect_jwt_required(allow_context_qsh=True)
def connect_view(name: str):
    _actor, client = connect_site_admin()
    return _view(name, client)


@bp.get("/connect/admin/<any(spaces, pages):kind>")
@connect_jwt_required(allow_context_qsh=True)
def connect_search(kind: str):
    _actor, client = connect_site_admin()
    return _search(kind, client)


@bp.post("/connect/admin/settings")
@connect_jwt_required(allow_context_qsh=True)
@rate_limited("admin_save")
def connect_save():
    actor, client = connect_site_admin()
    _connect_change_allowed()
    return _save(actor, client)


@bp.post("/connect/admin/test-connection")
@connect_jwt_required(allow_context_qsh=True)
@rate_limited("admin_save")
def connect_test_connection():
    connect_site_admin()
    _connect_change_allowed()
    return _test_connection()


@bp.post("/connect/admin/outbox/<int:entry_id>/retry")
@connect_jwt_required(allow_context_qsh=True)
@rate_limited("admin_save")
def connect_retry(entry_id: int):
    actor, client = connect_site_admin()
    _connect_change_allowed()
    return _retry(entry_id, actor, client)


@bp.post("/connect/admin/summaries/<any(weekly, monthly):cadence>/regenerate")
@connect_jwt_required(allow_context_qsh=True)
def connect_regenerate(cadence: str):
    actor, client = connect_site_admin()
    _connect_change_allowed()
    return _regenerate(cadence, actor, client)


@bp.post(f"/connect/admin/onboarding/<{ONBOARDING_ACTIONS}:action>")
@connect_jwt_required(allow_context_qsh=True)
def connect_onboarding(action: str):
    actor, _client = connect_site_admin()
    _connect_change_allowed()
    return _onboarding(action, actor)

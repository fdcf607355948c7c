"""The page viewer and editor a person (or a browser test) uses, and the hosting of the app's
macros and admin page in iframes: a Custom UI host with an injected bridge (Forge) or a Connect
iframe URL with a `context-qsh` JWT plus the emulator's own `all.js`.

Who is viewing: `?as=<account id or nickname>` (remembered in a cookie), else the default user.
"""

from __future__ import annotations

import html
import json
import logging
import re
import uuid
from urllib.parse import quote, urlencode

import requests
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, send_from_directory

from . import app_descriptors, macro_config, render, storage
from .rest import emulator
from .store import StoreError

log = logging.getLogger("sandbox.confluence.viewer")
bp = Blueprint(
    "confluence_viewer",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/_emulator-static",
)
MAX_FRAMES = 2000
VIEWER_COOKIE = "emulator_as"
ADMIN_PAGES = "/wiki/admin/apps"


def viewer_account() -> str:
    """The account the person at the browser views as: `?as=`, else the remembered choice, else the default."""
    return emulator().users.resolve(request.args.get("as") or request.cookies.get(VIEWER_COOKIE))


@bp.after_request
def _remember_viewer(response):
    if request.args.get("as"):
        response.set_cookie(VIEWER_COOKIE, viewer_account(), samesite="Lax", httponly=True)
    return response


def page_url(space, page) -> str:
    return f"/wiki/spaces/{space.key}/pages/{page.id}"


def _common() -> dict:
    emu = emulator()
    return {
        "site_name": emu.store.site_name,
        "page_url": page_url,
        "users": emu.users.listing(),
        "viewer": viewer_account(),
    }


def admin_pages() -> list[dict]:
    """The app's admin pages as installed: Forge `confluence:globalSettings` and/or Connect `configurePage`."""
    emu = emulator()
    store = emu.store
    pages = []
    if store.forge:
        pages += [
            {"key": p.key, "title": p.title, "transport": "forge", "url": f"{ADMIN_PAGES}/{p.key}"}
            for p in emu.forge_app.admin_pages.values()
        ]
    if store.connect:
        for key, module in app_descriptors.connect_admin_pages(store.connect.descriptor).items():
            title = (module.get("name") or {}).get("value") or key
            pages.append({"key": key, "title": title, "transport": "connect", "url": f"{ADMIN_PAGES}/{key}"})
    return pages


@bp.get("/")
def index():
    store = emulator().store
    with store.lock:
        spaces = sorted(store.spaces.values(), key=lambda s: int(s.id))
        listing = [(s, [p for p in store.list_pages([s.id])]) for s in spaces]
    forge = store.forge.id if store.forge else None
    connect = store.connect.client_key if store.connect else None
    return render_template(
        "emulator_index.html", spaces=listing, forge=forge, connect=connect, apps=admin_pages(), **_common()
    )


@bp.get("/wiki/pages/viewpage.action")
def view_by_id():
    store = emulator().store
    try:
        page = store.page(request.args.get("pageId", ""))
    except StoreError:
        abort(404)
    return redirect(page_url(store.spaces[page.space_id], page))


@bp.get("/wiki/spaces/<key>/pages/<page_id>")
@bp.get("/wiki/spaces/<key>/pages/<page_id>/<slug>")
def view_page(key, page_id, slug=None):
    if slug == "edit":
        return edit_page(key, page_id)
    emu = emulator()
    store = emu.store
    try:
        page = store.page(page_id)
    except StoreError:
        abort(404)
    space = store.spaces[page.space_id]
    if space.key != key:
        return redirect(page_url(space, page))
    account_id = viewer_account()
    version = page.current

    def is_app_macro(name: str) -> bool:
        if render.builtin_macro(name):
            return False
        connect_keys = set(app_descriptors.connect_macros(store.connect.descriptor)) if store.connect else set()
        return name in connect_keys or emu.forge_app.is_app_macro(name, render.BUILTIN_MACROS)

    def link(title: str, space_key: str | None) -> str:
        target_space = store.space_by_key(space_key) if space_key else space
        found = store.list_pages([target_space.id], title=title) if target_space else []
        return page_url(target_space, found[0]) if found else "#missing-page"

    def frame_for(slot) -> str:
        return _macro_frame(slot, page, version.number, space, account_id)

    def user_name(account_id: str) -> str:
        return emu.users.get(account_id).display_name

    rendered = render.render(
        version.body, is_app_macro=is_app_macro, page_link=link, frame_for=frame_for, user_name=user_name
    )
    body_html = _attach_task_urls(rendered.html, page.id)
    return render_template(
        "emulator_page.html",
        page=page,
        space=space,
        body_html=body_html,
        ancestors=store.ancestors(page),
        children=store.children(page.id),
        account_id=account_id,
        **_common(),
    )


def _attach_task_urls(body_html: str, page_id: str) -> str:
    return body_html.replace(
        'class="task-checkbox" data-task-local-id="',
        f'class="task-checkbox" data-toggle-url="/wiki/_viewer/pages/{page_id}/tasks/" data-task-local-id="',
    )


def _register_frame(frame: dict) -> str:
    emu = emulator()
    frame_id = uuid.uuid4().hex
    with emu.store.lock:
        emu.frames[frame_id] = frame
        while len(emu.frames) > MAX_FRAMES:
            emu.frames.pop(next(iter(emu.frames)))
    return frame_id


def _macro_frame_settings(name, macro_id, parameters, page, version_number, space, account_id) -> dict:
    return {
        "macroKey": name,
        "moduleKey": name,
        "moduleType": "xen:macro",
        "macroId": macro_id,
        "pageId": page.id,
        "pageVersion": version_number,
        "spaceKey": space.key,
        "spaceId": space.id,
        "accountId": account_id,
        "config": parameters,
        "localId": macro_id,
        "pageTitle": page.title,
    }


def _hosting_transport(name: str) -> str | None:
    """Which install hosts this macro: Forge when it has the macro, else Connect, else none."""
    emu = emulator()
    store = emu.store
    if store.forge and emu.forge_app.macro_route(name):
        return "forge"
    if store.connect and name in app_descriptors.connect_macros(store.connect.descriptor):
        return "connect"
    return None


def _configurable(name: str) -> bool:
    emu = emulator()
    transport = _hosting_transport(name)
    if transport == "forge":
        return emu.forge_app.macro_config_resource_path(name) is not None
    return (
        transport == "connect" and app_descriptors.connect_macro_editor(emu.store.connect.descriptor, name) is not None
    )


def _configure_button(slot, page) -> str:
    if slot.macro_id.startswith("auto-") or not _configurable(slot.name):
        return ""  # only a macro with its own ac:macro-id can be found again to save its settings
    url = f"/wiki/_viewer/pages/{quote(page.id, safe='')}/macros/{quote(slot.macro_id, safe='')}/configure"
    return (
        f'<button type="button" class="macro-configure" data-macro-key="{html.escape(slot.name)}" '
        f'data-configure-url="{html.escape(url)}" aria-label="Configure {html.escape(slot.name)}">Configure</button>'
    )


def _macro_frame(slot, page, version_number, space, account_id) -> str:
    emu = emulator()
    store = emu.store
    frame = _macro_frame_settings(slot.name, slot.macro_id, slot.parameters, page, version_number, space, account_id)
    connect_macro = app_descriptors.connect_macros(store.connect.descriptor).get(slot.name) if store.connect else None
    if store.forge and emu.forge_app.macro_route(slot.name):
        frame["transport"] = "forge"
        frame["resourcePath"] = emu.forge_app.macro_resource_path(slot.name)
        frame_id = _register_frame(frame)
        src = f"/wiki/_forge/frames/{frame_id}/index.html"
        return (
            f'<iframe class="app-macro forge-macro" data-macro-key="{html.escape(slot.name)}" '
            f'data-frame-id="{frame_id}" title="{html.escape(slot.name)}" src="{src}"></iframe>'
            + _configure_button(slot, page)
        )
    if connect_macro:
        frame["transport"] = "connect"
        frame_id = _register_frame(frame)
        src = _connect_url(connect_macro, frame)
        return (
            f'<iframe class="app-macro connect-macro" data-macro-key="{html.escape(slot.name)}" '
            f'data-frame-id="{frame_id}" data-token-url="/wiki/_connect/frames/{frame_id}/token" '
            f'title="{html.escape(slot.name)}" src="{html.escape(src)}"></iframe>' + _configure_button(slot, page)
        )
    return f'<div class="macro-missing">The app providing “{html.escape(slot.name)}” is not installed.</div>'


# macro configuration ------------------------------------------------------------------
@bp.post("/wiki/_viewer/pages/<page_id>/macros/<macro_id>/configure")
def open_macro_config(page_id, macro_id):
    """The Configure button: a frame for the macro's config resource (Forge) or editor URL (Connect)."""
    emu = emulator()
    store = emu.store
    try:
        page = store.page(page_id)
    except StoreError:
        abort(404)
    found = next((m for m in storage.macros_in(page.current.body) if m.macro_id == macro_id), None)
    if found is None or not _configurable(found.name):
        return jsonify({"error": "this macro has no configuration"}), 404
    space = store.spaces[page.space_id]
    frame = _macro_frame_settings(
        found.name, macro_id, found.parameters, page, page.current.number, space, viewer_account()
    )
    frame.update({"kind": "macro-config", "hostUrl": page_url(space, page)})
    if _hosting_transport(found.name) == "forge":
        frame.update({"transport": "forge", "resourcePath": emu.forge_app.macro_config_resource_path(found.name)})
        frame_id = _register_frame(frame)
        return jsonify(
            {
                "transport": "forge",
                "frameId": frame_id,
                "title": emu.forge_app.macro_config_titles[found.name],
                "src": f"/wiki/_forge/frames/{frame_id}/index.html",
            }
        )
    editor = app_descriptors.connect_macro_editor(store.connect.descriptor, found.name)
    frame["transport"] = "connect"
    frame_id = _register_frame(frame)
    return jsonify(
        {
            "transport": "connect",
            "frameId": frame_id,
            "src": _connect_url(editor, frame),
            "title": (editor.get("editTitle") or {}).get("value") or f"Configure {found.name}",
            "width": editor.get("width"),
            "height": editor.get("height"),
            "tokenUrl": f"/wiki/_connect/frames/{frame_id}/token",
            "saveUrl": f"/wiki/_viewer/frames/{frame_id}/macro",
            "macroData": found.parameters,
        }
    )


@bp.post("/wiki/_viewer/frames/<frame_id>/macro")
def save_macro(frame_id):
    """`AP.confluence.saveMacro(parameters)` from a Connect macro editor frame."""
    frame = emulator().frames.get(frame_id)
    if frame is None or frame.get("kind") != "macro-config":
        return jsonify({"error": "unknown macro editor"}), 404
    return _save_config(frame, (request.get_json(silent=True) or {}).get("parameters"))


def _save_config(frame: dict, parameters):
    try:
        saved = macro_config.configure_macro(
            emulator().store, frame["pageId"], frame["macroId"], parameters, frame["accountId"]
        )
    except StoreError as exc:
        return jsonify({"error": exc.message}), exc.status
    frame["config"] = saved["parameters"]
    return jsonify(saved)


def _connect_url(macro: dict, frame: dict) -> str:
    emu = emulator()
    inst = emu.store.connect
    variables = {
        "page.id": frame["pageId"],
        "page.version": frame["pageVersion"],
        "page.type": "page",
        "page.title": frame["pageTitle"],
        "space.key": frame["spaceKey"],
        "space.id": frame["spaceId"],
        "macro.id": frame["macroId"],
        "macro.hash": frame["macroId"],
        "output.type": "display",
        "user.id": frame["accountId"],
        "user.accountId": frame["accountId"],
    }
    variables.update(frame["config"] or {})
    template = macro.get("url", "")
    url = re.sub(r"\{([^}]+)\}", lambda m: quote(str(variables.get(m.group(1), "")), safe=""), template)
    if not url.startswith(("http://", "https://")):
        url = inst.app_base_url + url
    extra = {
        "xdm_e": emu.url,
        "xdm_c": f"channel-{frame['macroKey']}",
        "cp": "/wiki",
        "lic": "none",
        "cv": "1.0",
        "jwt": emu.connect_context_token(frame),
    }
    return url + ("&" if "?" in url else "?") + urlencode(extra)


# Forge Custom UI host -------------------------------------------------------------------
@bp.get("/wiki/_forge/frames/<frame_id>/index.html")
def forge_frame(frame_id):
    emu = emulator()
    frame = emu.frames.get(frame_id)
    if frame is None or emu.store.forge is None:
        abort(404)
    resource_path = frame.get("resourcePath") or emu.forge_app.resource_path
    resource_base = f"{emu.store.forge.app_url}/{resource_path.strip('/')}/"
    try:
        upstream = requests.get(resource_base + "index.html", timeout=10)
        upstream.raise_for_status()
        document = upstream.text
    except requests.RequestException as exc:
        log.warning("custom UI resource unavailable: %s", exc)
        document = (
            f"<html><head></head><body><p>Custom UI resource unavailable: {html.escape(str(exc))}</p></body></html>"
        )
    own = request.host_url.rstrip("/")
    settings = {
        "frameId": frame_id,
        "kind": frame.get("kind") or "macro",
        "bridgeUrl": f"{own}/wiki/_forge/frames/{frame_id}/bridge",
        "pageUrl": own + (frame.get("hostUrl") or f"/wiki/spaces/{frame['spaceKey']}/pages/{frame['pageId']}"),
    }
    injected = (
        f'<base href="{html.escape(resource_base)}">'
        f"<script>window.__emulatorFrame = {json.dumps(settings)};</script>"
        f'<script src="{own}/_emulator-static/forge-bridge.js"></script>'
    )
    lowered = document.lower()
    at = lowered.find("<head>")
    if at >= 0:
        document = document[: at + 6] + injected + document[at + 6 :]
    else:
        document = injected + document
    return Response(document, mimetype="text/html")


@bp.post("/wiki/_forge/frames/<frame_id>/bridge")
def forge_bridge(frame_id):
    emu = emulator()
    frame = emu.frames.get(frame_id)
    if frame is None:
        return jsonify({"error": "unknown frame"}), 404
    message = request.get_json(silent=True) or {}
    method, payload = message.get("method"), message.get("payload") or {}
    if method == "invoke":
        return jsonify({"result": emu.invoke_forge_remote(frame, payload)})
    if method == "getContext":
        return jsonify({"result": emu.forge_context(frame)})
    if method == "submit":  # view.submit({config}) from a macro's config resource; other views are not submittable
        if frame.get("kind") != "macro-config":
            return jsonify({"result": False})
        return _save_config(frame, payload.get("config") if isinstance(payload, dict) else None)
    return jsonify({"result": True})


# the app's admin page ------------------------------------------------------------------
@bp.get(f"{ADMIN_PAGES}/<module_key>")
def admin_page(module_key):
    """Settings → the app's page: the Forge global settings module, else the Connect configure page."""
    emu = emulator()
    store = emu.store
    account_id = viewer_account()
    host_url = f"{ADMIN_PAGES}/{module_key}"
    forge_page = emu.forge_app.admin_pages.get(module_key) if store.forge else None
    connect_page = (
        app_descriptors.connect_admin_pages(store.connect.descriptor).get(module_key) if store.connect else None
    )
    if forge_page:
        frame_id = _register_frame(
            {
                "kind": "admin",
                "transport": "forge",
                "moduleKey": module_key,
                "moduleType": app_descriptors.ADMIN_MODULE_TYPE,
                "route": forge_page.route,
                "resourcePath": forge_page.resource_path,
                "accountId": account_id,
                "localId": f"admin-{module_key}",
                "hostUrl": host_url,
            }
        )
        title = forge_page.title
        iframe = (
            f'<iframe class="app-macro app-admin forge-admin" data-module-key="{html.escape(module_key)}" '
            f'data-frame-id="{frame_id}" title="{html.escape(title)}" '
            f'src="/wiki/_forge/frames/{frame_id}/index.html"></iframe>'
        )
    elif connect_page:
        frame = {
            "kind": "admin",
            "transport": "connect",
            "moduleKey": module_key,
            "accountId": account_id,
            "hostUrl": host_url,
        }
        frame_id = _register_frame(frame)
        title = (connect_page.get("name") or {}).get("value") or module_key
        src = _connect_admin_url(connect_page, frame)
        iframe = (
            f'<iframe class="app-macro app-admin connect-admin" data-module-key="{html.escape(module_key)}" '
            f'data-frame-id="{frame_id}" data-token-url="/wiki/_connect/frames/{frame_id}/token" '
            f'title="{html.escape(title)}" src="{html.escape(src)}"></iframe>'
        )
    else:
        abort(404)
    return render_template(
        "emulator_admin.html",
        title=title,
        iframe=iframe,
        account_id=account_id,
        is_admin=emu.users.is_admin(account_id),
        **_common(),
    )


def _connect_admin_url(module: dict, frame: dict) -> str:
    emu = emulator()
    url = module.get("url", "")
    if not url.startswith(("http://", "https://")):
        url = emu.store.connect.app_base_url + url
    extra = {
        "xdm_e": emu.url,
        "xdm_c": f"channel-{frame['moduleKey']}",
        "cp": "/wiki",
        "lic": "none",
        "cv": "1.0",
        "jwt": emu.connect_context_token(frame),
    }
    return url + ("&" if "?" in url else "?") + urlencode(extra)


# Connect iframe support -----------------------------------------------------------------
@bp.get("/atlassian-connect/all.js")
@bp.get("/wiki/atlassian-connect/all.js")
def connect_all_js():
    return send_from_directory(bp.static_folder, "all.js", mimetype="application/javascript")


@bp.post("/wiki/_connect/frames/<frame_id>/token")
def connect_token(frame_id):
    emu = emulator()
    frame = emu.frames.get(frame_id)
    if frame is None or emu.store.connect is None:
        return jsonify({"error": "unknown frame"}), 404
    if frame.get("kind") == "admin":
        context = {"confluence": {}}
    else:
        context = {
            "confluence": {
                "content": {"id": frame["pageId"], "version": str(frame["pageVersion"])},
                "space": {"key": frame["spaceKey"], "id": frame["spaceId"]},
                "macro": {"id": frame["macroId"], "outputType": "display"},
            }
        }
    return jsonify({"token": emu.connect_context_token(frame), "context": context})


# editing --------------------------------------------------------------------------------
def edit_page(key, page_id):
    store = emulator().store
    try:
        page = store.page(page_id)
    except StoreError:
        abort(404)
    space = store.spaces[page.space_id]
    return render_template(
        "emulator_edit.html", page=page, space=space, body=page.current.body, error=None, **_common()
    )


@bp.post("/wiki/spaces/<key>/pages/<page_id>/edit")
def save_page(key, page_id):
    emu = emulator()
    store = emu.store
    try:
        page = store.page(page_id)
    except StoreError:
        abort(404)
    space = store.spaces[page.space_id]
    try:
        store.update_page(
            page_id,
            title=request.form.get("title") or page.title,
            body=request.form.get("body", ""),
            version=int(request.form.get("version", 0)),
            status=page.status,
            message=request.form.get("message", ""),
            author_id=viewer_account(),
        )
    except StoreError as exc:
        return render_template(
            "emulator_edit.html",
            page=page,
            space=space,
            body=request.form.get("body", ""),
            error=exc.message,
            **_common(),
        ), exc.status
    return redirect(page_url(space, page), code=303)


@bp.post("/wiki/_viewer/pages/<page_id>/tasks/<local_id>")
def toggle_task(page_id, local_id):
    emu = emulator()
    store = emu.store
    status = (request.get_json(silent=True) or {}).get("status")
    with store.lock:
        task = next((t for t in store.tasks.values() if t.page_id == page_id and t.local_id == local_id), None)
    if task is None:
        abort(404)
    try:
        store.set_task_status(task.id, status, author_id=viewer_account())
    except StoreError as exc:
        return jsonify({"error": exc.message}), exc.status
    return jsonify({"taskId": task.id, "status": status, "version": store.page(page_id).current.number})

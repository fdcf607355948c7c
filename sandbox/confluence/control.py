"""Control endpoints (`/_emulator/...`, JSON) for tests and the dev loop, plus the public key
endpoints Atlassian serves: the Forge JWKS and the signed-install key server.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from . import macro_config, seed
from .rest import emulator
from .store import StoreError

bp = Blueprint("confluence_control", __name__)


@bp.errorhandler(StoreError)
def _store_error(exc: StoreError):
    return jsonify({"error": exc.message}), exc.status


@bp.get("/.well-known/jwks.json")
def jwks():
    return jsonify({"keys": [emulator().fit_key.jwk()]})


@bp.get("/install-keys/<kid>")
def install_key(kid):
    key = emulator().install_key
    if kid != key.kid:
        abort(404)
    return Response(key.public_pem(), mimetype="application/x-pem-file")


@bp.get("/_emulator/state")
def state():
    emu = emulator()
    store = emu.store
    with store.lock:
        counts = {
            "spaces": len(store.spaces),
            "pages": len(store.pages),
            "tasks": len(store.tasks),
            "attachments": len(store.attachments),
        }
    connect = store.connect
    return jsonify(
        {
            "url": emu.url,
            "cloudId": store.cloud_id,
            "counts": counts,
            "forge": emu.forge_installation_json(),
            "connect": {"clientKey": connect.client_key, "key": connect.key, "baseUrl": connect.app_base_url}
            if connect
            else None,
            "fitKid": emu.fit_key.kid,
            "installKid": emu.install_key.kid,
        }
    )


@bp.post("/_emulator/install")
def install():
    body = request.get_json(silent=True) or {}
    mode, app_url = body.get("mode", "forge"), body.get("app_url")
    if not app_url:
        raise StoreError(400, "app_url is required")
    if mode == "forge":
        return jsonify(emulator().install_forge(app_url))
    if mode == "connect":
        return jsonify(emulator().install_connect(app_url))
    raise StoreError(400, "mode must be forge or connect")


@bp.post("/_emulator/uninstall")
def uninstall():
    mode = (request.get_json(silent=True) or {}).get("mode", "forge")
    emu = emulator()
    return jsonify(emu.uninstall_forge() if mode == "forge" else emu.uninstall_connect())


@bp.get("/_emulator/scheduled-triggers")
def scheduled_triggers():
    """The installed app's scheduled triggers and the latest firings (newest last)."""
    emu = emulator()
    triggers = emu.forge_app.scheduled_triggers if emu.store.forge else []
    every = emu.config["SCHEDULED_TRIGGER_SECONDS"]
    return jsonify(
        triggers=[
            {
                "key": t.key,
                "route": t.route,
                "intervalSeconds": t.interval_seconds,
                "firesEverySeconds": every or t.interval_seconds,
            }
            for t in triggers
        ],
        fired=emu.trigger_log[-50:],
    )


@bp.post("/_emulator/scheduled-triggers/<key>/fire")
def fire_scheduled_trigger(key):
    """Fire one scheduled trigger now, as Forge would at its next interval."""
    return jsonify(emulator().fire_scheduled_trigger(key))


@bp.post("/_emulator/fit")
def mint_fit():
    """A Forge Invocation Token plus the oauth headers Forge would send with it."""
    body = request.get_json(silent=True) or {}
    emu = emulator()
    principal = body.get("principal")
    token = emu.mint_fit(
        body.get("module_key", "title-status"),
        module_type=body.get("module_type", "xen:macro"),
        principal=principal,
        content_id=body.get("content_id"),
        space_key=body.get("space_key"),
        local_id=body.get("local_id"),
        is_editing=bool(body.get("is_editing")),
        config=body.get("config"),
        lifetime=int(body.get("lifetime", 60)),
    )
    return jsonify({"token": token, "headers": emu.forge_headers(token, principal)})


@bp.post("/_emulator/seed")
def seed_site():
    body = request.get_json(silent=True) or {}
    return jsonify(seed.seed(emulator().store, work_id=str(body.get("work_id", "1"))))


@bp.post("/_emulator/pages/<page_id>/macros/<macro_id>")
def configure_macro(page_id, macro_id):
    """Body: {parameters: {name: value}, accountId?}: what a macro's config view saves (empty value = removed)."""
    body = request.get_json(silent=True) or {}
    emu = emulator()
    author = emu.users.resolve(body.get("accountId"))
    return jsonify(macro_config.configure_macro(emu.store, page_id, macro_id, body.get("parameters"), author))


@bp.get("/_emulator/users")
def list_users():
    return jsonify(emulator().users.listing())


@bp.post("/_emulator/users")
def put_user():
    """Body: {accountId, displayName?, nickname?, admin? (true/false; absent = unchanged)}: add or change a user."""
    body = request.get_json(silent=True) or {}
    account_id = str(body.get("accountId") or "").strip()
    if not account_id:
        raise StoreError(400, "accountId is required")
    admin, can_edit = body.get("admin"), body.get("canEdit")
    if admin is not None and not isinstance(admin, bool):
        raise StoreError(400, "admin must be true or false")
    if can_edit is not None and not isinstance(can_edit, bool):
        raise StoreError(400, "canEdit must be true or false")
    users = emulator().users
    users.add(
        account_id, body.get("displayName"), nickname=str(body.get("nickname") or ""), admin=admin, can_edit=can_edit
    )
    return jsonify(next(u for u in users.listing() if u["accountId"] == account_id))


@bp.post("/_emulator/pages/<page_id>/restrictions")
def restrict_page(page_id):
    """Body: {"update": [accountId, ...]} restricts editing the page to those users, {"read": [...]} viewing it;
    null lifts a restriction, and a key left out leaves it as it is."""
    body = request.get_json(silent=True) or {}
    for key in ("update", "read"):
        users = body.get(key)
        if users is not None and (not isinstance(users, list) or not all(isinstance(u, str) for u in users)):
            raise StoreError(400, f"{key} must be a list of account ids or null")
    emu = emulator()
    with emu.store.lock:
        page = emu.store.page(page_id)
        if "update" in body:
            users = body["update"]
            page.edit_restricted_to = None if users is None else {emu.users.resolve(u) for u in users}
        if "read" in body:
            users = body["read"]
            page.view_restricted_to = None if users is None else {emu.users.resolve(u) for u in users}
    return jsonify(
        {
            "pageId": page_id,
            "update": sorted(page.edit_restricted_to or []),
            "read": sorted(page.view_restricted_to or []),
        }
    )


@bp.get("/_emulator/faults")
def list_faults():
    return jsonify([f.to_json() for f in emulator().faults.faults])


@bp.post("/_emulator/faults")
def add_fault():
    """Body: {path (regex), method?, status?, count? (null = every time), latency_ms?, retry_after?}."""
    return jsonify(emulator().faults.add(**(request.get_json(silent=True) or {})).to_json()), 201


@bp.delete("/_emulator/faults")
def clear_faults():
    emulator().faults.clear()
    return "", 204


@bp.get("/_emulator/requests")
def request_log():
    return jsonify(emulator().requests.list())


@bp.delete("/_emulator/requests")
def clear_request_log():
    emulator().requests.clear()
    return "", 204


@bp.get("/_emulator/events")
def event_log():
    return jsonify(list(emulator().events.log))


@bp.post("/_emulator/events/settings")
def event_settings():
    """Body: any of duplicates, out_of_order, reorder_window_seconds, max_retries, retry_base_seconds."""
    settings = emulator().events.settings
    for name, value in (request.get_json(silent=True) or {}).items():
        if hasattr(settings, name):
            setattr(settings, name, type(getattr(settings, name))(value))
    return jsonify(vars(settings))

"""Confluence REST v1 (`/wiki/rest/api`): labels, CQL search, attachments, macro bodies, spaces, users."""

from __future__ import annotations

import time
import zlib
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, g, jsonify, redirect, request

from . import cql, storage
from .rest import authenticate, author_id, decode_cursor, emulator, encode_cursor, json_body, page_limit, v1_error
from .store import Attachment, Page, StoreError

bp = Blueprint("confluence_v1", __name__, url_prefix="/wiki/rest/api")
downloads = Blueprint("confluence_downloads", __name__)


@bp.before_request
def _require_auth():
    problem = authenticate()
    if problem:
        return v1_error(401, problem)


@bp.errorhandler(StoreError)
def _store_error(exc: StoreError):
    return v1_error(exc.status, exc.message)


def _label_json(name: str) -> dict:
    return {"prefix": "global", "name": name, "id": str(zlib.crc32(name.encode())), "label": name}


def _labels_response(page: Page):
    labels = [_label_json(n) for n in page.labels]
    return {
        "results": labels,
        "start": 0,
        "limit": 200,
        "size": len(labels),
        "_links": {
            "base": emulator().wiki_url,
            "context": "/wiki",
            "self": f"{emulator().wiki_url}/rest/api/content/{page.id}/label",
        },
    }


def _content_json(page: Page) -> dict:
    space = emulator().store.spaces[page.space_id]
    version = page.current
    return {
        "id": page.id,
        "type": "page",
        "status": page.status,
        "title": page.title,
        "version": {
            "number": version.number,
            "when": version.created_at,
            "message": version.message,
            "minorEdit": version.minor_edit,
        },
        "_expandable": {"space": f"/rest/api/space/{space.key}"},
        "_links": {
            "webui": f"/spaces/{space.key}/pages/{page.id}",
            "self": f"{emulator().wiki_url}/rest/api/content/{page.id}",
            "tinyui": f"/x/{page.id}",
        },
    }


def _attachment_json(att: Attachment) -> dict:
    page_link = f"/download/attachments/{att.page_id}/{att.title}?version={att.version}&api=v2"
    return {
        "id": att.id,
        "type": "attachment",
        "status": "current",
        "title": att.title,
        "version": {"number": att.version, "when": att.created_at, "message": att.comment, "minorEdit": True},
        "extensions": {"mediaType": att.media_type, "fileSize": len(att.data), "comment": att.comment},
        "_expandable": {"container": f"/rest/api/content/{att.page_id}"},
        "_links": {
            "download": page_link,
            "webui": f"/pages/viewpageattachments.action?pageId={att.page_id}",
            "self": f"{emulator().wiki_url}/rest/api/content/{att.id}",
        },
    }


# labels ---------------------------------------------------------------------------------
@bp.get("/content/<page_id>/label")
def get_labels(page_id):
    return jsonify(_labels_response(emulator().store.page(page_id)))


@bp.post("/content/<page_id>/label")
def add_labels(page_id):
    payload = json_body()
    items = payload if isinstance(payload, list) else [payload]
    names = []
    for item in items:
        if not isinstance(item, dict) or not item.get("name"):
            raise StoreError(400, "Each label needs a name and a prefix")
        names.append(item["name"])
    store = emulator().store
    store.add_labels(page_id, names)
    return jsonify(_labels_response(store.page(page_id)))


@bp.delete("/content/<page_id>/label")
def delete_label_by_query(page_id):
    emulator().store.remove_label(page_id, request.args.get("name", ""))
    return "", 204


@bp.delete("/content/<page_id>/label/<label>")
def delete_label(page_id, label):
    emulator().store.remove_label(page_id, label)
    return "", 204


# search ---------------------------------------------------------------------------------
@bp.get("/search")
def search():
    started = time.monotonic()
    query = request.args.get("cql")
    if not query:
        raise StoreError(400, "cql is required")
    store = emulator().store
    found = cql.search(store, query)
    limit = page_limit(25, 1000)
    offset = (
        decode_cursor(request.args.get("cursor")) if request.args.get("cursor") else int(request.args.get("start", 0))
    )
    chunk = found[offset : offset + limit]
    results = []
    for page in chunk:
        space = store.spaces[page.space_id]
        results.append(
            {
                "content": _content_json(page),
                "title": page.title,
                "excerpt": "",
                "url": f"/spaces/{space.key}/pages/{page.id}",
                "resultGlobalContainer": {"title": space.name, "displayUrl": f"/spaces/{space.key}"},
                "breadcrumbs": [],
                "entityType": "content",
                "iconCssClass": "aui-icon content-type-page",
                "lastModified": page.current.created_at,
                "friendlyLastModified": "just now",
                "score": 1.0,
            }
        )
    links = {"base": emulator().wiki_url, "context": "/wiki", "self": f"{emulator().wiki_url}/rest/api/search"}
    response_headers = {}
    if offset + limit < len(found):
        params = [(k, v) for k, v in request.args.items(multi=True) if k not in ("cursor", "start")]
        params.append(("cursor", encode_cursor(offset + limit)))
        links["next"] = f"/rest/api/search?{urlencode(params)}"
        response_headers["Link"] = f'</wiki{links["next"]}>; rel="next"'
    body = {
        "results": results,
        "start": offset,
        "limit": limit,
        "size": len(results),
        "totalSize": len(found),
        "cqlQuery": query,
        "searchDuration": int((time.monotonic() - started) * 1000),
        "_links": links,
    }
    response = jsonify(body)
    response.headers.update(response_headers)
    return response


# attachments ----------------------------------------------------------------------------
def _upload(page_id: str, replace: bool):
    files = request.files.getlist("file")
    if not files:
        raise StoreError(400, "At least one file is required in the 'file' part")
    store = emulator().store
    created = [
        store.put_attachment(
            page_id,
            f.filename or "file",
            f.mimetype or "application/octet-stream",
            f.read(),
            request.form.get("comment", ""),
            replace=replace,
        )
        for f in files
    ]
    results = [_attachment_json(a) for a in created]
    return jsonify(
        {"results": results, "size": len(results), "_links": {"base": emulator().wiki_url, "context": "/wiki"}}
    )


@bp.post("/content/<page_id>/child/attachment")
def create_attachment(page_id):
    return _upload(page_id, replace=False)


@bp.put("/content/<page_id>/child/attachment")
def create_or_update_attachment(page_id):
    return _upload(page_id, replace=True)


@bp.get("/content/<page_id>/child/attachment")
def list_attachments(page_id):
    store = emulator().store
    store.page(page_id)
    name = request.args.get("filename")
    results = [_attachment_json(a) for a in store.attachments_of(page_id) if name is None or a.title == name]
    return jsonify(
        {
            "results": results,
            "start": 0,
            "limit": 50,
            "size": len(results),
            "_links": {"base": emulator().wiki_url, "context": "/wiki"},
        }
    )


@bp.get("/content/<page_id>/child/attachment/<attachment_id>/download")
def download_attachment(page_id, attachment_id):
    """As in Confluence: a 302 to the file's download URL."""
    att = emulator().store.attachments.get(attachment_id)
    if att is None or att.page_id != page_id:
        raise StoreError(404, f"No attachment {attachment_id} on content {page_id}")
    version = request.args.get("version", type=int) or att.version
    if version > att.version:
        raise StoreError(400, f"Attachment {attachment_id} has no version {version}")
    return redirect(f"/wiki/download/attachments/{page_id}/{quote(att.title)}?version={version}&api=v2", code=302)


@downloads.get("/wiki/download/attachments/<page_id>/<path:filename>")
def attachment_file(page_id, filename):
    problem = authenticate()
    if problem:
        return v1_error(401, problem)
    att = next((a for a in emulator().store.attachments_of(page_id) if a.title == filename), None)
    if att is None:
        return v1_error(404, f"No attachment {filename} on content {page_id}")
    return Response(
        att.data, mimetype=att.media_type, headers={"Content-Disposition": f'attachment; filename="{att.title}"'}
    )


# macro bodies ---------------------------------------------------------------------------
@bp.get("/content/<page_id>/history/<int:version>/macro/id/<macro_id>")
def macro_body(page_id, version, macro_id):
    page = emulator().store.page(page_id)
    shown = next((v for v in page.versions if v.number == version), None)
    if shown is None:
        raise StoreError(404, f"No version {version} of content {page_id}")
    macro = next((m for m in storage.macros_in(shown.body) if m.macro_id == macro_id), None)
    if macro is None:
        raise StoreError(404, f"No macro found with id {macro_id} in version {version} of content {page_id}")
    return jsonify(
        {
            "name": macro.name,
            "body": macro.body,
            "parameters": macro.parameters,
            "_links": {"base": emulator().wiki_url, "context": "/wiki"},
        }
    )


# spaces ---------------------------------------------------------------------------------
def _space_v1(space) -> dict:
    return {
        "id": int(space.id),
        "key": space.key,
        "name": space.name,
        "type": "global",
        "status": "current",
        "_expandable": {"homepage": f"/rest/api/content/{space.homepage_id}", "description": ""},
        "_links": {
            "webui": f"/spaces/{space.key}",
            "self": f"{emulator().wiki_url}/rest/api/space/{space.key}",
            "base": emulator().wiki_url,
            "context": "/wiki",
        },
    }


@bp.post("/space")
def create_space():
    payload = json_body()
    if not payload.get("key") or not payload.get("name"):
        raise StoreError(400, "key and name are required")
    description = ((payload.get("description") or {}).get("plain") or {}).get("value", "")
    space = emulator().store.create_space(payload["key"], payload["name"], description, author_id=author_id())
    return jsonify(_space_v1(space))


@bp.get("/space")
def list_spaces():
    store = emulator().store
    keys = set(request.args.getlist("spaceKey"))
    with store.lock:
        spaces = [s for s in sorted(store.spaces.values(), key=lambda s: int(s.id)) if not keys or s.key in keys]
    results = [_space_v1(s) for s in spaces]
    return jsonify(
        {
            "results": results,
            "start": 0,
            "limit": 25,
            "size": len(results),
            "_links": {"base": emulator().wiki_url, "context": "/wiki"},
        }
    )


# content permissions ------------------------------------------------------------------------
_PERMISSION_ERRORS = {
    "anonymous": "Anonymous users are not allowed to use Confluence",
    "user": "User does not have permission to the content",
}


@bp.post("/content/<page_id>/permission/check")
def check_content_permission(page_id):
    """`checkContentPermission`: may this user read, update or delete the content? Checking for oneself needs only
    "Can use"; checking for someone else needs the Confluence Administrator global permission."""
    body = json_body()
    subject = body.get("subject") if isinstance(body, dict) else None
    operation = body.get("operation") if isinstance(body, dict) else None
    if not isinstance(subject, dict) or subject.get("type") not in ("user", "group") or not subject.get("identifier"):
        raise StoreError(400, "subject with type (user or group) and identifier is required")
    if operation not in ("read", "update", "delete"):
        raise StoreError(400, "operation must be one of read, update, delete")
    if subject["type"] == "group":
        raise StoreError(400, "group permission checks are not emulated")  # assumption: no groups in the emulator
    emu = emulator()
    auth = getattr(g, "auth", None) or {}
    caller, identifier = auth.get("principal"), str(subject["identifier"])
    # assumption: an app acting as itself (Forge system token, Connect JWT without `sub`) holds the
    # Confluence Administrator permission the spec asks for when checking for someone else.
    if caller and caller != identifier and not emu.users.is_admin(caller):
        raise StoreError(403, "Checking another user's permission needs the Confluence Administrator permission")
    page = emu.store.page(page_id)
    allowed = emu.users.may(identifier, operation, page.edit_restricted_to, page.view_restricted_to)
    answer = {"hasPermission": allowed}
    if not allowed:
        reason = _PERMISSION_ERRORS["anonymous" if identifier == "anonymous" else "user"]
        answer["errors"] = [{"translation": reason, "args": []}]
    return jsonify(answer)


# users ----------------------------------------------------------------------------------
def _expand() -> set[str]:
    return {part.strip() for raw in request.args.getlist("expand") for part in raw.split(",") if part.strip()}


def _app_account_id() -> str:
    """The app's own (bot) user, which is who an app token without a user acts as."""
    return f"557058:app-{emulator().store.cloud_id[-12:]}"


@bp.get("/user/current")
def current_user():
    """Who the token acts for: the viewing user for a Forge user token (or a Connect JWT with `sub`), else the app."""
    emu = emulator()
    principal = (getattr(g, "auth", None) or {}).get("principal")
    if not principal:
        emu.users.add(_app_account_id(), "Consonance for Confluence", account_type="app")
    return jsonify(emu.users.user_json(principal or _app_account_id(), base_url=emu.wiki_url, expand=_expand()))


@bp.get("/user")
def user_by_account_id():
    account_id = (request.args.get("accountId") or "").strip()
    if not account_id:
        raise StoreError(400, "accountId is required")
    emu = emulator()
    return jsonify(emu.users.user_json(account_id, base_url=emu.wiki_url, expand=_expand()))

"""Confluence REST v2 (`/wiki/api/v2`): spaces, pages, children, content properties, tasks."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from .rest import authenticate, author_id, cursor_page, emulator, id_list, json_body, v2_error
from .store import Page, Property, Space, StoreError, Task

bp = Blueprint("confluence_v2", __name__, url_prefix="/wiki/api/v2")


@bp.before_request
def _require_auth():
    problem = authenticate()
    if problem:
        return v2_error(401, problem)


@bp.errorhandler(StoreError)
def _store_error(exc: StoreError):
    return v2_error(exc.status, exc.message)


def _version_json(number, created_at, message, author, minor=False) -> dict:
    return {"createdAt": created_at, "message": message, "number": number, "minorEdit": minor, "authorId": author}


def space_json(space: Space) -> dict:
    return {
        "id": space.id,
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "authorId": space.author_id,
        "createdAt": space.created_at,
        "homepageId": space.homepage_id,
        "_links": {"webui": f"/spaces/{space.key}"},
    }


def page_json(page: Page, body_format: str | None = None, version: int | None = None) -> dict:
    store = emulator().store
    space = store.spaces[page.space_id]
    shown = page.current if version is None else next((v for v in page.versions if v.number == version), None)
    if shown is None:
        raise StoreError(404, f"Version {version} of page {page.id} not found")
    data = {
        "id": page.id,
        "status": page.status if shown is page.current else "historical",
        "title": shown.title,
        "spaceId": page.space_id,
        "position": page.position,
        "authorId": page.author_id,
        "ownerId": page.author_id,
        "createdAt": page.created_at,
        "version": _version_json(shown.number, shown.created_at, shown.message, shown.author_id, shown.minor_edit),
        "_links": {
            "webui": f"/spaces/{space.key}/pages/{page.id}",
            "editui": f"/pages/resumedraft.action?draftId={page.id}",
            "tinyui": f"/x/{page.id}",
        },
    }
    if page.parent_id:
        data["parentId"] = page.parent_id
        data["parentType"] = "page"
    if body_format == "storage":
        data["body"] = {"storage": {"representation": "storage", "value": shown.body}}
    elif body_format:
        data["body"] = {}
    return data


def property_json(prop: Property) -> dict:
    return {
        "id": prop.id,
        "key": prop.key,
        "value": prop.value,
        "version": _version_json(prop.version, prop.created_at, "", prop.author_id),
    }


def task_json(task: Task, body_format: str | None = None) -> dict:
    data = {
        "id": task.id,
        "localId": task.local_id,
        "spaceId": task.space_id,
        "pageId": task.page_id,
        "status": task.status,
        "createdBy": task.created_by,
        "createdAt": task.created_at,
        "updatedAt": task.updated_at,
    }
    if task.completed_by:
        data["completedBy"] = task.completed_by
    if task.completed_at:
        data["completedAt"] = task.completed_at
    if body_format == "storage":
        data["body"] = {"storage": {"representation": "storage", "value": task.body}}
    return data


def _with_base(data: dict) -> dict:
    data["_links"] = {**data.get("_links", {}), "base": emulator().wiki_url}
    return data


def _body_format() -> str | None:
    value = request.args.get("body-format")
    if value and value not in (
        "storage",
        "atlas_doc_format",
        "view",
        "export_view",
        "anonymous_export_view",
        "styled_view",
        "editor",
    ):
        raise StoreError(400, f"Invalid body-format: {value}")
    return value


def _storage_value(payload: dict) -> str:
    body = payload.get("body") or {}
    if "storage" in body:  # the nested form {"storage": {"representation", "value"}}
        body = body["storage"]
    representation = body.get("representation", "storage")
    if body and representation != "storage":
        raise StoreError(400, "Only the storage representation is supported by this emulator")
    return body.get("value", "")


# spaces ---------------------------------------------------------------------------------
@bp.get("/spaces")
def list_spaces():
    store = emulator().store
    keys, ids = set(id_list("keys")), set(id_list("ids"))
    with store.lock:
        spaces = sorted(store.spaces.values(), key=lambda s: int(s.id))
    spaces = [s for s in spaces if (not keys or s.key in keys) and (not ids or s.id in ids)]
    return cursor_page(spaces, space_json)


@bp.get("/spaces/<space_id>")
def get_space(space_id):
    return jsonify(_with_base(space_json(emulator().store.space(space_id))))


@bp.post("/spaces")
def create_space():
    payload = json_body()
    if not payload.get("name"):
        raise StoreError(400, "name is required")
    description = (payload.get("description") or {}).get("value", "")
    space = emulator().store.create_space(
        payload.get("key") or payload.get("alias"), payload["name"], description, author_id=author_id()
    )
    return jsonify(_with_base(space_json(space))), 201


# pages ----------------------------------------------------------------------------------
@bp.get("/pages")
def list_pages():
    store = emulator().store
    statuses = id_list("status") or None
    pages = store.list_pages(
        space_ids=id_list("space-id") or None,
        title=request.args.get("title"),
        status=statuses,
        ids=id_list("id") or None,
    )
    body_format = _body_format()
    return cursor_page(pages, lambda p: page_json(p, body_format))


@bp.post("/pages")
def create_page():
    payload = json_body()
    store = emulator().store
    if not payload.get("spaceId"):
        raise StoreError(400, "spaceId is required")
    root_level = request.args.get("root-level", "false").lower() == "true"
    page = store.create_page(
        str(payload["spaceId"]),
        payload.get("title") or "",
        _storage_value(payload),
        parent_id=payload.get("parentId"),
        status=payload.get("status", "current"),
        author_id=author_id(),
        use_homepage=not root_level,
    )
    return jsonify(_with_base(page_json(page, "storage")))


@bp.get("/pages/<page_id>")
def get_page(page_id):
    version = request.args.get("version", type=int)
    page = emulator().store.page(page_id)
    return jsonify(_with_base(page_json(page, _body_format(), version)))


@bp.put("/pages/<page_id>")
def update_page(page_id):
    payload = json_body()
    for field in ("id", "status", "title", "body", "version"):
        if field not in payload:
            raise StoreError(400, f"{field} is required")
    if str(payload["id"]) != str(page_id):
        raise StoreError(400, "The id in the body does not match the id in the path")
    version = payload.get("version") or {}
    if not isinstance(version.get("number"), int):
        raise StoreError(400, "version.number is required")
    page = emulator().store.update_page(
        page_id,
        title=payload["title"],
        body=_storage_value(payload),
        version=version["number"],
        status=payload["status"],
        parent_id=payload.get("parentId"),
        message=version.get("message", ""),
        author_id=author_id(),
    )
    return jsonify(_with_base(page_json(page, "storage")))


@bp.delete("/pages/<page_id>")
def delete_page(page_id):
    emulator().store.delete_page(page_id, purge=request.args.get("purge", "false").lower() == "true")
    return "", 204


@bp.get("/pages/<page_id>/children")
def page_children(page_id):
    children = emulator().store.children(page_id)
    return cursor_page(
        children,
        lambda p: {
            "id": p.id,
            "status": p.status,
            "title": p.title,
            "spaceId": p.space_id,
            "childPosition": p.position,
        },
    )


# content properties ---------------------------------------------------------------------
@bp.get("/pages/<page_id>/properties")
def list_properties(page_id):
    page = emulator().store.page(page_id)
    key = request.args.get("key")
    props = [p for p in page.properties.values() if key is None or p.key == key]
    return cursor_page(sorted(props, key=lambda p: int(p.id)), property_json, default_limit=10)


@bp.post("/pages/<page_id>/properties")
def create_property(page_id):
    payload = json_body()
    prop = emulator().store.create_property(page_id, payload.get("key"), payload.get("value"), author_id=author_id())
    return jsonify(property_json(prop))


@bp.get("/pages/<page_id>/properties/<property_id>")
def get_property(page_id, property_id):
    return jsonify(property_json(emulator().store.property_by_id(page_id, property_id)))


@bp.put("/pages/<page_id>/properties/<property_id>")
def update_property(page_id, property_id):
    payload = json_body()
    number = (payload.get("version") or {}).get("number")
    if not isinstance(number, int):
        raise StoreError(400, "version.number is required")
    prop = emulator().store.update_property(
        page_id, property_id, payload.get("key"), payload.get("value"), number, author_id=author_id()
    )
    return jsonify(property_json(prop))


@bp.delete("/pages/<page_id>/properties/<property_id>")
def delete_property(page_id, property_id):
    emulator().store.delete_property(page_id, property_id)
    return "", 204


# tasks ----------------------------------------------------------------------------------
@bp.get("/tasks")
def list_tasks():
    store = emulator().store
    filters = {
        "id": set(id_list("task-id")),
        "space_id": set(id_list("space-id")),
        "page_id": set(id_list("page-id")),
        "created_by": set(id_list("created-by")),
        "completed_by": set(id_list("completed-by")),
    }
    status = request.args.get("status")
    include_blank = request.args.get("include-blank-tasks", "true").lower() == "true"
    with store.lock:
        tasks = sorted(store.tasks.values(), key=lambda t: int(t.id))
    tasks = [
        t
        for t in tasks
        if all(not wanted or getattr(t, attr) in wanted for attr, wanted in filters.items())
        and (status is None or t.status == status)
        and (include_blank or t.body.strip())
    ]
    body_format = _body_format()
    return cursor_page(tasks, lambda t: task_json(t, body_format))


@bp.get("/tasks/<task_id>")
def get_task(task_id):
    return jsonify(task_json(emulator().store.task(task_id), _body_format()))


@bp.put("/tasks/<task_id>")
def update_task(task_id):
    payload = json_body()
    task = emulator().store.set_task_status(task_id, payload.get("status"), author_id=author_id())
    return jsonify(task_json(task, _body_format()))

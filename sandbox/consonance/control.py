"""`/_sandbox/` control endpoints (JSON, no auth: sandbox only) that move the story on for demos and tests.

Each view is a thin call into the catalogue or the fault book; edits take the catalogue lock like
GraphQL mutations do, so a control call and a query never interleave.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from . import profiles, vocab
from .catalogue import MAX_SIZE, MIN_SIZE, acquire_title

control = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")


def _box():
    from .server import sandbox

    return sandbox()


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _bad_request(message: str):
    return jsonify(error=message), 400


def _work_summary(work) -> dict:
    return {
        "id": work.id,
        "title": work.full_title,
        "projectStage": work.stage,
        "season": work.season,
        "imprint": work.imprint,
        "publicationDate": _iso(work.publication_date),
        "isbns": [p.isbn13 for p in work.products],
        "tasks": [{"id": t.id, "title": t.title, "status": t.status, "dueDate": _iso(t.due_date)} for t in work.tasks],
        "webLinks": [{"link": w.link, "role": w.role, "note": w.note} for w in work.web_links],
        "deliveryDates": [
            {"id": d.id, "dateDue": _iso(d.date_due), "slippedDate": _iso(d.slipped_date)}
            for c in work.contracts
            for d in c.delivery_dates
        ],
    }


def _iso(value):
    return value.isoformat() if value else None


@control.get("/state")
def state():
    catalogue = _box().catalogue
    with catalogue.lock:
        stages = {stage: 0 for stage in vocab.PROJECT_STAGES}
        for work in catalogue.works.values():
            stages[work.stage] += 1
        return jsonify(
            seed=catalogue.seed,
            size=catalogue.size,
            anchor=catalogue.anchor.isoformat(),
            works=len(catalogue.works),
            products=len(catalogue.products),
            invalidShare=round(catalogue.invalid_share(), 4),
            stages=stages,
        )


@control.get("/works/<int:work_id>")
def show_work(work_id: int):
    catalogue = _box().catalogue
    with catalogue.lock:
        work = catalogue.works.get(work_id) or abort(404)
        return jsonify(_work_summary(work))


@control.post("/works/<int:work_id>/stage")
def move_to_stage(work_id: int):
    catalogue = _box().catalogue
    with catalogue.lock:
        work = catalogue.works.get(work_id) or abort(404)
        errors = catalogue.change_stage(work, _body().get("stage", ""))
        if errors:
            return jsonify(errors=errors), 422
        return jsonify(_work_summary(work))


@control.post("/works/acquire")
def acquire():
    body = _body()
    catalogue = _box().catalogue
    with catalogue.lock:
        work = acquire_title(catalogue, body.get("title"), body.get("imprint"))
        return jsonify(_work_summary(work)), 201


@control.post("/works/<int:work_id>/slip")
def slip_publication(work_id: int):
    days = _body().get("days", 30)
    if not isinstance(days, int):
        return _bad_request("days must be an integer")
    catalogue = _box().catalogue
    with catalogue.lock:
        if work_id not in catalogue.works:
            abort(404)
        catalogue.slip("publication", work_id, days)
        return jsonify(_work_summary(catalogue.works[work_id]))


@control.post("/delivery-dates/<int:delivery_id>/slip")
def slip_delivery(delivery_id: int):
    days = _body().get("days", 30)
    if not isinstance(days, int):
        return _bad_request("days must be an integer")
    catalogue = _box().catalogue
    with catalogue.lock:
        if delivery_id not in catalogue.delivery_dates:
            abort(404)
        result = catalogue.slip("delivery", delivery_id, days)
        return jsonify({k: _iso(v) if k != "id" else v for k, v in result.items()})


@control.post("/tasks/<int:task_id>/complete")
def complete_task(task_id: int):
    catalogue = _box().catalogue
    with catalogue.lock:
        task = catalogue.tasks.get(task_id) or abort(404)
        catalogue.set_task_status(task, True)
        return jsonify(id=task.id, workId=task.work.id, title=task.title, status=task.status)


@control.post("/reset")
def reset():
    body, box = _body(), _box()
    seed, size = body.get("seed", box.catalogue.seed), body.get("size", box.catalogue.size)
    if not (isinstance(seed, int) and isinstance(size, int) and MIN_SIZE <= size <= MAX_SIZE):
        return _bad_request(f"seed must be an integer and size an integer from {MIN_SIZE} to {MAX_SIZE}")
    box.reset(seed, size)
    return jsonify(seed=seed, size=size, works=len(box.catalogue.works))


@control.get("/requests")
def recent_requests():
    limit = request.args.get("limit", type=int)
    return jsonify(requests=_box().requests.recent(limit))


@control.delete("/requests")
def clear_requests():
    _box().requests.clear()
    return "", 204


@control.get("/counters")
def counters():
    return jsonify(_box().requests.counters())


@control.get("/faults")
def list_faults():
    return jsonify(faults=_box().faults.describe())


@control.post("/faults")
def add_fault():
    try:
        rule = _box().faults.add(_body())
    except (TypeError, ValueError) as error:
        return _bad_request(str(error))
    return jsonify(rule.describe()), 201


@control.delete("/faults")
def clear_faults():
    _box().faults.clear()
    return "", 204


@control.put("/profile")
def set_profile():
    """Become another server (`{"profile": "documented-only"}`): a customer's Consonance upgraded under the app."""
    name = _body().get("profile")
    if name not in profiles.PROFILES:
        return _bad_request(f"profile must be one of {', '.join(profiles.PROFILES)}")
    _box().profile = name
    return jsonify(profile=name)

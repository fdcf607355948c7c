"""Reading what the outside systems and the app recorded, for the invariant checks: Consonance notes by
externalRef (GraphQL), the emulator's pages with their content properties (REST as the app's user), the
outbox and job runs, and the admin activity view model itself."""

from __future__ import annotations

import logging
from collections import Counter

import requests

from load import invariants as inv
from load.harness import SPACE_KEY, Stack

log = logging.getLogger("load.records")
NOTES_QUERY = "query Notes($id: ID!) { work(workSearch: {idEq: $id}) { id notes { externalRef } } }"
PAGE_PROPERTY = "consonance-title"


def notes_by_work(stack: Stack, work_ids) -> dict[str, list[str]]:
    """Every note's externalRef on each work, as Consonance holds them."""
    result = {}
    for work_id in sorted(set(map(str, work_ids))):
        work = stack.graphql(NOTES_QUERY, {"id": work_id})["work"] or {}
        result[work_id] = [note["externalRef"] for note in work.get("notes", []) if note.get("externalRef")]
    return result


def _get(stack: Stack, path: str, params: dict | None = None) -> dict:
    answer = requests.get(
        stack.api_base_url.rstrip("/") + path,
        params=params,
        timeout=30,
        headers={"Authorization": f"Bearer {stack.system_token}", "Accept": "application/json"},
    )
    answer.raise_for_status()
    return answer.json()


def space_pages(stack: Stack) -> list[dict]:
    """Every current page of the title space: id, title, parent id."""
    space = _get(stack, "/wiki/api/v2/spaces", {"keys": SPACE_KEY})["results"][0]
    pages, params, path = [], {"space-id": space["id"], "limit": 250}, "/wiki/api/v2/pages"
    while path:
        answer = _get(stack, path, params)
        pages += [
            {"id": str(p["id"]), "title": p["title"], "parent_id": str(p.get("parentId") or "")}
            for p in answer["results"]
        ]
        following = (answer.get("_links") or {}).get("next")
        path, params = ("/wiki" + following.split("/wiki", 1)[1], None) if following else (None, None)
    return pages


def title_pages(stack: Stack, acquired_titles: dict[str, str]) -> list[dict]:
    """Pages that carry the app's title property, plus any page titled like an acquired title's page that
    does not (a half-made duplicate would be one): {id, parent_id, work_id, role}."""
    found = []
    for page in space_pages(stack):
        props = _get(stack, f"/wiki/api/v2/pages/{page['id']}/properties", {"key": PAGE_PROPERTY})["results"]
        value = props[0]["value"] if props else None
        if isinstance(value, dict) and value.get("workId"):
            found.append(
                {
                    "id": page["id"],
                    "parent_id": page["parent_id"],
                    "work_id": str(value["workId"]),
                    "role": value.get("role"),
                }
            )
            continue
        for work_id, name in acquired_titles.items():
            if page["title"] == name or page["title"].startswith(name + " — "):
                found.append({"id": page["id"], "parent_id": page["parent_id"], "work_id": work_id, "role": "unmarked"})
    return found


def page_body(stack: Stack, page_id: str) -> str | None:
    try:
        return _get(stack, f"/wiki/api/v2/pages/{page_id}", {"body-format": "storage"})["body"]["storage"]["value"]
    except requests.HTTPError:
        return None


def expected_roles(stack: Stack) -> list[str]:
    from addon.extensions import db
    from addon.flows.page_templates import CHILD_ROLES
    from addon.platform.models import Tenant
    from addon.settings.service import get_settings
    from addon.titles import models as roles

    with stack.app().app_context():
        settings = get_settings(db.session.get(Tenant, stack.tenant_id))
        result = [roles.HOME] + [CHILD_ROLES[name] for name in settings.page_set_children]
        db.session.remove()
        return result


def decision_keys(stack: Stack) -> dict[str, str]:
    """Every decision the app recorded: idempotency key -> work id."""
    from addon.decisions.models import Decision
    from addon.extensions import db

    with stack.app().app_context():
        keys = {d.idempotency_key: d.work_id for d in db.session.query(Decision).filter_by(tenant_id=stack.tenant_id)}
        db.session.remove()
        return keys


def unfinished_runs(stack: Stack) -> int:
    """Job runs of the tenant not finished yet (running now, or lost with a worker)."""
    from addon.extensions import db
    from addon.jobs.models import JobRun

    with stack.app().app_context():
        count = db.session.query(JobRun).filter_by(tenant_id=stack.tenant_id, finished_at=None).count()
        db.session.remove()
        return count


def activity_records(stack: Stack) -> tuple[list[int], list[dict], dict]:
    """Failed outbox entries and job runs that did not end well (as the app holds them), and the admin
    activity view model's answer."""
    from addon.admin import activity
    from addon.extensions import db
    from addon.jobs.models import JobRun, OutboxEntry
    from addon.platform.models import Tenant

    def runs_not_ok(tenant) -> dict[int, dict]:
        db.session.expire_all()
        return {
            r.id: {
                "kind_label": activity.kind_label(r.kind),
                "shown_outcome": r.outcome or ("running" if not r.finished_at else "unknown"),
            }
            for r in db.session.query(JobRun).filter_by(tenant_id=tenant.id)
            if r.outcome not in ("ok",)
        }

    with stack.app().app_context():
        tenant = db.session.get(Tenant, stack.tenant_id)
        failed = [e.id for e in db.session.query(OutboxEntry).filter_by(tenant_id=tenant.id, status="failed")]
        before = runs_not_ok(tenant)
        view = activity.activity_view(tenant)
        after = runs_not_ok(tenant)
        db.session.remove()
        return failed, inv.steady_runs(before, after), view


def run_outcomes(stack: Stack) -> Counter:
    from addon.extensions import db
    from addon.jobs.models import JobRun

    with stack.app().app_context():
        counts = Counter(
            (r.kind, r.outcome or "unfinished") for r in db.session.query(JobRun).filter_by(tenant_id=stack.tenant_id)
        )
        db.session.remove()
        return counts

"""F3: playbook gates become Consonance tasks per title, and their state flows both ways, once.

A playbook page's gates (task items marked "GATE:" or with a GATE lozenge, under format headings)
apply to titles through `publishing.playbooks.gates_for`; each (title, gate) gets one Consonance
task, created through the outbox with its stable external_ref. Each title with a home page gets a
"Launch checklist" child page whose owned region lists its gates as Confluence tasks.

No loop: a `GateLink` holds the state last synced on each side, and a side is acted on only when
what we now see differs from it. Ticking in Confluence completes the task; completing in
Consonance ticks the box (marked `tick_pending` until written); unticking reopens a completed task.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from addon.confluence.models import Page
from addon.confluence.owned_regions import OwnedRegionError, read_region, region_storage
from addon.confluence.storage import TaskItem, document, emphasis, paragraph, task_list
from addon.extensions import db
from addon.flows.editor_page_models import EditorFlowPage, GateLink, PlaybookSource
from addon.flows.owned_pages import CHECKLIST, remember_own_write, write_region
from addon.flows.page_layout import PageFormatError, checklist_ticks, parse_playbook
from addon.gateways import gateways
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.jobs.runner import submit
from addon.jobs.schedule import scheduled
from addon.jobs.unique import insert_once
from addon.platform.models import Tenant, tenant_query, utcnow
from addon.publishing.playbooks import PlaybookItem, gates_for
from addon.settings.service import poll_interval_seconds
from addon.titles import models as roles
from addon.titles.models import TitlePage
from addon.titles.service import pages_of

log = logging.getLogger("addon.flows.playbook_gates")

REGION = "launch-checklist"
CREATE_KIND = "consonance.create_gate_task"
COMPLETE_KIND = "consonance.complete_gate_task"
REOPEN_KIND = "consonance.reopen_gate_task"
CHECKLIST_KIND = "confluence.gate_checklist"
SYNC_ALL_JOB = "addon.flows.playbook_gates.sync_all_titles"
TASK_ID_BASE = 700000  # checklist task ids: far above the ids Confluence gives tasks people type


def _items_plain(items: list[PlaybookItem]) -> list[dict]:
    return [{"scope": i.scope, "text": i.text, "is_gate": i.is_gate, "stage": i.stage} for i in items]


# ------------------------------------------------------------------ playbook pages
def process_playbook_page(tenant: Tenant, page: Page) -> dict:
    """Store the playbook's items; when its gates changed, sync every title's gates in a job."""
    items, problems = parse_playbook(page.body or "")
    plain = _items_plain(items)
    digest = hashlib.sha256(json.dumps(plain, sort_keys=True).encode("utf-8")).hexdigest()
    source_id, _ = insert_once(
        PlaybookSource,
        {
            "tenant_id": tenant.id,
            "page_id": page.id,
            "title": page.title[:255],
            "items": [],
            "digest": "",
            "updated_at": utcnow(),
        },
        ("tenant_id", "page_id"),
    )
    source = db.session.get_one(PlaybookSource, source_id, populate_existing=True)
    changed = source.digest != digest
    source.items, source.digest, source.title, source.updated_at = plain, digest, page.title[:255], utcnow()
    db.session.commit()
    counts = {
        "items": len(items),
        "gates": sum(i.is_gate for i in items),
        "problems": len(problems),
        "changed": changed,
    }
    for problem in problems:
        log.info("playbook page %s: %r %s", page.id, problem.text, problem.what_is_wrong)
    if changed:
        submit(
            SYNC_ALL_JOB,
            args=(tenant.id,),
            tenant_id=tenant.id,
            kind="gates.sync_all",
            dedupe_key=f"gates-all:{tenant.id}:{page.id}:{digest[:24]}",
        )
    return counts


def playbook_items(tenant: Tenant) -> list[PlaybookItem]:
    """Every playbook's items, pages in id order (a gate key used in two playbooks is one gate)."""
    items = []
    for source in db.session.execute(tenant_query(PlaybookSource, tenant).order_by(PlaybookSource.page_id)).scalars():
        for plain in source.items or []:
            try:
                items.append(
                    PlaybookItem(
                        scope=plain["scope"],
                        text=plain["text"],
                        is_gate=bool(plain["is_gate"]),
                        stage=plain.get("stage"),
                    )
                )
            except (KeyError, ValueError):
                continue
    return items


def sync_all_titles(tenant_id: int) -> dict:
    """Job: every title with a page set gets its gates synced (after a playbook change)."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or not tenant.enabled:
        return {"skipped": 1}
    works = (
        db.session.execute(
            sa.select(TitlePage.work_id)
            .where(TitlePage.tenant_id == tenant.id, TitlePage.role == roles.HOME)
            .distinct()
        )
        .scalars()
        .all()
    )
    totals = {"titles": 0, "gates": 0, "failed": 0}
    for work_id in works:
        try:
            result = sync_gates_for_title(tenant, work_id)
        except Exception:  # one title's failure must not stop the others; the schedule retries
            db.session.rollback()
            log.exception("gate sync for work %s failed", work_id)
            totals["failed"] += 1
            continue
        totals["titles"] += 1
        totals["gates"] += result.get("gates", 0)
    return {**totals, "outcome": "partial"} if totals["failed"] else totals


# ------------------------------------------------------------------ one title
def sync_gates_for_title(tenant: Tenant, work_id: str) -> dict:
    """Make sure each gate that applies to the title (its formats, its stage) has its Consonance task
    (exactly once) and its checklist line, then reconcile both sides. Call on stage/format changes."""

    work_id = str(work_id)
    items = playbook_items(tenant)
    title = gateways().consonance(tenant).title(work_id)
    if title is None:
        return {"gates": 0, "missing_title": True}
    assignments = gates_for(title, items)
    links = {link.gate_key: link for link in _links(tenant, work_id, active_only=False)}
    created = 0
    for gate in assignments:
        link = links.get(gate.gate_key)
        if link is None:
            link_id, _ = insert_once(
                GateLink,
                {
                    "tenant_id": tenant.id,
                    "work_id": work_id,
                    "gate_key": gate.gate_key,
                    "external_ref": gate.external_ref,
                    "text": gate.text,
                    "task_title": gate.task_title,
                    "consonance_done": False,
                    "confluence_done": False,
                    "tick_pending": False,
                    "active": True,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                },
                ("tenant_id", "work_id", "gate_key"),
            )
            link = db.session.get_one(GateLink, link_id)
            created += 1
        link.active, link.text, link.task_title = True, gate.text, gate.task_title
        if link.consonance_task_id is None:
            enqueue(
                tenant,
                "consonance",
                CREATE_KIND,
                {"link_id": link.id},
                dedupe_key=f"gate-task:{link.external_ref}"[:255],
            )
    wanted = {g.gate_key for g in assignments}
    for key, link in links.items():
        if key not in wanted and link.active:
            link.active = False  # the playbook no longer asks for it; its Consonance task stays as it is
    db.session.commit()
    result = reconcile_gates(tenant, work_id)
    return {"gates": len(assignments), "new_gates": created, **result}


def _links(tenant: Tenant, work_id: str, *, active_only: bool = True) -> list[GateLink]:
    query = tenant_query(GateLink, tenant).where(GateLink.work_id == str(work_id)).order_by(GateLink.id)
    if active_only:
        query = query.where(GateLink.active.is_(True))
    return list(db.session.execute(query).scalars())


def task_id_for(link: GateLink) -> str:
    return str(TASK_ID_BASE + link.id)


def _checklist_page_id(tenant: Tenant, work_id: str) -> str | None:
    row = db.session.execute(
        tenant_query(EditorFlowPage, tenant).where(
            EditorFlowPage.work_id == str(work_id), EditorFlowPage.kind == CHECKLIST
        )
    ).scalar_one_or_none()
    return row.page_id if row else None


def checklist_changed(tenant: Tenant, work_id: str, page: Page) -> dict:
    """A person saved the launch checklist (ticked a box): reconcile with what the page shows now."""
    return reconcile_gates(tenant, work_id, page)


def reconcile_gates(tenant: Tenant, work_id: str, page: Page | None = None) -> dict:
    """Compare both sides with the last synced state; act only on real changes (see module doc)."""

    links = _links(tenant, work_id)
    if not links:
        return {"completed_in_consonance": 0, "ticked_in_confluence": 0}
    if not gateways().consonance(tenant).supports("tasks"):
        return {"completed_in_consonance": 0, "ticked_in_confluence": 0, "skipped": 1}  # no tasks on this Consonance
    tasks = {t.external_ref: t for t in gateways().consonance(tenant).list_tasks(work_id) if t.external_ref}
    ticks: dict[str, bool] = {}
    page_id = _checklist_page_id(tenant, work_id)
    if page is None and page_id:
        page = gateways().confluence(tenant).get_page(page_id)
    read_from = ""  # the checklist version the ticks were read from, for the writes' dedupe keys
    if page is not None:
        ticks = _ticks_on(page)
        read_from = f"{page.id}:{page.version}"
    to_consonance = to_confluence = 0
    for link in links:
        task = tasks.get(link.external_ref)
        if task is not None and link.consonance_task_id is None:
            link.consonance_task_id = task.id
        ticked = ticks.get(task_id_for(link))
        if ticked is not None and ticked != link.confluence_done and not link.tick_pending:
            link.confluence_done = ticked  # a person changed the box
            if ticked and not link.consonance_done and not (task is not None and task.is_done):
                enqueue(
                    tenant,
                    "consonance",
                    COMPLETE_KIND,
                    {"link_id": link.id},
                    dedupe_key=f"gate-complete:{link.id}:{read_from}",
                )
                to_consonance += 1
            elif not ticked and (link.consonance_done or (task is not None and task.is_done)):
                enqueue(
                    tenant,
                    "consonance",
                    REOPEN_KIND,
                    {"link_id": link.id},
                    dedupe_key=f"gate-reopen:{link.id}:{read_from}",
                )
                to_consonance += 1
        done = task.is_done if task is not None else None
        if done is not None and done != link.consonance_done:
            link.consonance_done = done  # Consonance changed
            if done != link.confluence_done:
                link.confluence_done, link.tick_pending = done, True
                to_confluence += 1
        link.updated_at = utcnow()
    db.session.commit()
    if pages_of(tenant, work_id).get(roles.HOME) is not None:
        queue_checklist(tenant, work_id)
    return {"completed_in_consonance": to_consonance, "ticked_in_confluence": to_confluence}


def _ticks_on(page: Page) -> dict[str, bool]:

    try:
        inner = read_region(page.body or "", REGION)
        return checklist_ticks(inner) if inner is not None else {}
    except (OwnedRegionError, PageFormatError, ValueError) as exc:
        log.warning("launch checklist %s could not be read: %s", page.id, exc)
        return {}


# ------------------------------------------------------------------ the checklist page
def _checklist_state(tenant: Tenant, work_id: str) -> list[tuple]:
    return [(task_id_for(g), g.task_title, g.confluence_done, g.tick_pending) for g in _links(tenant, work_id)]


def queue_checklist(tenant: Tenant, work_id: str) -> None:
    digest = hashlib.sha256(json.dumps(_checklist_state(tenant, work_id)).encode("utf-8")).hexdigest()[:32]
    enqueue(tenant, "confluence", CHECKLIST_KIND, {"work_id": str(work_id)}, dedupe_key=f"{REGION}:{work_id}:{digest}")
    db.session.commit()


def checklist_content(links: list[GateLink], current_inner: str | None) -> str:
    """The region: one task per gate. A box a person changed since our last read keeps their value,
    unless Consonance's state is waiting to be shown (`tick_pending`)."""
    on_page = {}
    if current_inner is not None:
        try:
            on_page = checklist_ticks(current_inner)
        except PageFormatError:
            on_page = {}
    tasks = []
    for link in links:
        task_id = task_id_for(link)
        shown = link.confluence_done if link.tick_pending or task_id not in on_page else on_page[task_id]
        tasks.append(TaskItem(task_id, link.task_title, shown))
    intro = paragraph(
        emphasis(
            "Approval gates from the production playbooks. Tick a gate when it is done: "
            "its task in Consonance is completed. Gates completed in Consonance are ticked here."
        )
    )
    return document(intro, task_list(tasks) if tasks else paragraph("No gates apply to this title yet."))


@outbox_handler(CHECKLIST_KIND)
def write_checklist(tenant: Tenant, payload: dict) -> dict:
    """Create the title's Launch checklist page if needed, then write its region (merging fresh ticks)."""
    work_id = str(payload["work_id"])
    client = gateways().confluence(tenant)
    page_id = _checklist_page_id(tenant, work_id) or _create_checklist_page(tenant, client, work_id)
    links = _links(tenant, work_id)
    written = write_region(
        tenant, client, page_id, REGION, lambda inner: checklist_content(links, inner), message="launch checklist"
    )
    for link in links:
        link.tick_pending = False
    return {"written": written, "page_id": page_id}


def _create_checklist_page(tenant: Tenant, client, work_id: str) -> str:
    home = pages_of(tenant, work_id).get(roles.HOME)
    if home is None or not home.page_id:
        raise PermanentError(f"work {work_id} has no title home page to hold its launch checklist")
    if not home.space_id:
        home_page = client.get_page(home.page_id)
        space_id = home_page.space_id
    else:
        space_id = home.space_id
    title = f"Launch checklist — {home.title or 'work ' + work_id}"[:255]
    page = client.find_page_by_title(space_id, title)  # made before a crash: use it, never a twin
    if page is None:
        body = region_storage(REGION, checklist_content([], None))
        page = client.create_page(space_id, title, body, parent_id=home.page_id)
        remember_own_write(tenant, page)
    row_id, _ = insert_once(
        EditorFlowPage,
        {"tenant_id": tenant.id, "work_id": work_id, "kind": CHECKLIST, "page_id": page.id, "created_at": utcnow()},
        ("tenant_id", "work_id", "kind"),
    )
    db.session.get_one(EditorFlowPage, row_id).page_id = page.id
    db.session.flush()
    return page.id


# ------------------------------------------------------------------ Consonance writes
_LEAD = re.compile(
    r"(?P<count>\d{1,3})\s*(?P<unit>day|week|month)s?\s+before\s+(?P<anchor>publication|pub(?:lishing)?|delivery)",
    re.I,
)
_OWNER = re.compile(r"\bowner\s*[:：]\s*(?P<owner>[^—–;,()\[\]]{1,80})", re.I)
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30}


@dataclass(frozen=True)
class GateSchedule:
    """When a gate is due and who owns it, as the playbook says ("… — 6 weeks before publication — owner: Editor")."""

    lead: timedelta | None
    anchor: str | None  # "publication" or "delivery"
    owner: str | None

    def due_date(self, title) -> date | None:
        """The task's due date from the title's dates (None when the playbook gives no lead time or no date is set)."""
        if self.lead is None or title is None:
            return None
        if self.anchor == "delivery":
            dates = [d.expected for c in title.contracts for d in c.delivery_dates if d.expected]
            anchor = min(dates) if dates else None
        else:
            anchor = title.earliest_publication_date
        return anchor - self.lead if anchor else None


def gate_schedule(text: str) -> GateSchedule:
    lead = _LEAD.search(text or "")
    owner = _OWNER.search(text or "")
    return GateSchedule(
        timedelta(days=int(lead.group("count")) * _UNIT_DAYS[lead.group("unit").lower()]) if lead else None,
        ("delivery" if lead.group("anchor").lower() == "delivery" else "publication") if lead else None,
        " ".join(owner.group("owner").split()) if owner else None,
    )


@outbox_handler(CREATE_KIND)
def create_gate_task(tenant: Tenant, payload: dict) -> dict:
    """The gate's Consonance task, due its lead time before the title's date; its owner (a role the
    playbook names) travels in the task's title, since Consonance's tasks take no assignee."""
    link = db.session.get(GateLink, payload["link_id"])
    if link is None or link.tenant_id != tenant.id:
        raise PermanentError("the gate link no longer exists")
    gateway = gateways().consonance(tenant)
    schedule = gate_schedule(link.text)
    due = schedule.due_date(gateway.title(link.work_id)) if schedule.lead else None
    title = link.task_title
    if schedule.owner and "owner" not in title.lower():
        title = f"{title} — owner: {schedule.owner}"
    task = gateway.create_task(link.work_id, title, due, link.external_ref)
    link.consonance_task_id = task.id
    return {"task_id": task.id, "due": due.isoformat() if due else None}


@outbox_handler(COMPLETE_KIND)
def complete_gate_task(tenant: Tenant, payload: dict) -> dict:
    link = db.session.get(GateLink, payload["link_id"])
    if link is None or link.tenant_id != tenant.id:
        raise PermanentError("the gate link no longer exists")
    gateway = gateways().consonance(tenant)
    task_id = link.consonance_task_id or gateway.create_task(link.work_id, link.task_title, None, link.external_ref).id
    task = gateway.complete_task(task_id)
    link.consonance_task_id, link.consonance_done, link.updated_at = task_id, True, utcnow()
    return {"task_id": task_id, "status": task.status}


@outbox_handler(REOPEN_KIND)
def reopen_gate_task(tenant: Tenant, payload: dict) -> dict:
    """A person unticked a gate whose task was complete: the task is open again in Consonance."""
    link = db.session.get(GateLink, payload["link_id"])
    if link is None or link.tenant_id != tenant.id:
        raise PermanentError("the gate link no longer exists")
    if link.confluence_done:
        return {"skipped": "ticked again before the reopen was sent"}
    if not link.consonance_task_id:
        return {"skipped": "no Consonance task yet"}
    task = gateways().consonance(tenant).reopen_task(link.consonance_task_id)
    link.consonance_done, link.updated_at = False, utcnow()
    return {"task_id": link.consonance_task_id, "status": task.status}


# ------------------------------------------------------------------ the poll
def _sync_interval(app, tenant: Tenant) -> timedelta:
    return timedelta(seconds=poll_interval_seconds(tenant))


@scheduled("gates_sync", every=_sync_interval)
def gates_sync(tenant: Tenant) -> dict:
    """Read each gated title's Consonance tasks and checklist; act only where a side changed."""
    works = (
        db.session.execute(
            sa.select(GateLink.work_id).where(GateLink.tenant_id == tenant.id, GateLink.active.is_(True)).distinct()
        )
        .scalars()
        .all()
    )
    totals = {"titles": 0, "completed_in_consonance": 0, "ticked_in_confluence": 0, "failed": 0}
    for work_id in works:
        try:
            result = reconcile_gates(tenant, work_id)
        except Exception:
            db.session.rollback()
            log.exception("gate reconcile for work %s failed", work_id)
            totals["failed"] += 1
            continue
        totals["titles"] += 1
        for key in ("completed_in_consonance", "ticked_in_confluence"):
            totals[key] += result[key]
    return {**totals, "outcome": "partial"} if totals["failed"] else totals

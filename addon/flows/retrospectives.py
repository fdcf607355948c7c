"""F8: a retrospective page under each published title's home; its lessons go to Consonance as notes
on the work (once each, with a link back) and into a per-stage "Lessons learned" index page.

Lessons are the items under a heading containing "Lessons"; "Production: …" files a lesson under
that stage. The index page has one owned region per stage, under the stage's heading, so workflow
templates can link to `Lessons learned#<Stage>` and later titles at that stage see them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence

import sqlalchemy as sa

from addon.confluence.errors import ConfluenceError
from addon.confluence.models import Page
from addon.confluence.owned_regions import region_storage
from addon.confluence.storage import (
    Content,
    bullet_list,
    document,
    emphasis,
    escape_attr,
    heading,
    info_panel,
    page_link,
    paragraph,
    status_lozenge,
    strong,
    table,
    text,
    trusted,
)
from addon.decisions.models import Decision
from addon.extensions import db, rows_changed
from addon.flows.editor_page_models import EditorFlowPage, Lesson
from addon.flows.owned_pages import remember_own_write, write_region
from addon.flows.page_layout import GENERAL, PageFormatError, parse_lessons
from addon.gateways import gateways
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.jobs.unique import insert_once
from addon.platform.models import Tenant, tenant_query, utcnow
from addon.publishing.milestones import title_milestones
from addon.publishing.stages import sort_stage_names
from addon.publishing.wording import long_date
from addon.settings.service import get_settings
from addon.titles import models as roles
from addon.titles.models import TitlePage
from addon.titles.service import pages_of

log = logging.getLogger("addon.flows.retrospectives")

CREATE_KIND = "confluence.create_retrospective"
NOTE_KIND = "consonance.lesson_note"
INDEX_KIND = "confluence.lessons_index"
LABEL = "consonance-retrospective"
INDEX_KIND_ROW = "lessons-index"
INDEX_TITLE = "Lessons learned"


FACTS_REGION = "retrospective-facts"


def facts_content(tenant: Tenant, title, tasks, today) -> str:
    """What happened to the title, from the record: planned vs actual dates, every slip, the decisions
    from its Decision log (by the people who made them) and the gates that were late."""
    milestones = title_milestones(title) if title is not None else []
    rows: list[list[Content]] = [
        [
            m.name,
            long_date(m.planned) if m.planned else "Not set",
            long_date(m.expected) if m.expected else "Not set",
            status_lozenge("Slipped", "Red") if m.slipped else status_lozenge("On plan", "Green"),
            m.status(today),
        ]
        for m in milestones
    ]
    slips = [m for m in milestones if m.slipped]
    parts = [
        heading(2, "What happened"),
        heading(3, "Planned and actual dates"),
        table(["Milestone", "Planned", "Actual or expected", "", "In short"], rows)
        if rows
        else paragraph("Consonance holds no delivery or publication dates for this title."),
        heading(3, "Slips"),
        bullet_list(
            [f"{m.name}: {m.slip_words()}, to {long_date(expected)}" for m in slips if (expected := m.expected)]
        )
        if slips
        else paragraph("Nothing slipped against the plan."),
    ]
    decisions = (
        db.session.execute(
            tenant_query(Decision, tenant)
            .where(Decision.work_id == str(title.work_id if title else ""))
            .order_by(Decision.created_at, Decision.id)
        )
        .scalars()
        .all()
    )
    parts.append(heading(3, "Decisions"))
    if decisions:
        parts.append(
            table(
                ["When", "Decision", "Details", "Decided by"],
                [
                    [
                        long_date(d.created_at.date()),
                        _DECISION_NAMES.get(d.decision_type, d.decision_type)
                        + (f" → {d.to_stage}" if d.to_stage else ""),
                        d.text or "",
                        trusted(f'<ac:link><ri:user ri:account-id="{escape_attr(d.actor)}" /></ac:link>')
                        if d.actor
                        else "",
                    ]
                    for d in decisions
                ],
            )
        )
    else:
        parts.append(paragraph("No decisions were recorded for this title."))
    late = [t for t in tasks if t.due_date and t.due_date < today and not t.is_done]
    on_time = [t for t in tasks if t.is_done]
    parts.append(heading(3, "Gates"))
    if late:
        parts.append(paragraph(f"Not done by their due date ({len(late)} of {len(tasks)}):"))
        parts.append(bullet_list([f"{t.title} — due {long_date(t.due_date)}" for t in late]))
    elif tasks:
        parts.append(paragraph(f"{len(on_time)} of {len(tasks)} gates done; none past its due date."))
    else:
        parts.append(paragraph("No playbook gates were set for this title."))
    parts.append(
        paragraph(
            emphasis("Taken from Consonance and the Decision log when this page was made; write your own view below.")
        )
    )
    return document(*parts)


_DECISION_NAMES = {"approve_stage": "Approve", "request_changes": "Request changes", "hold": "Hold", "note": "Note"}


def retrospective_template(facts: str | None = None) -> str:
    """The page a published title gets: the facts in an owned region, then sections people fill in."""
    return document(
        info_panel(
            paragraph(
                "Write one lesson per bullet under “Lessons learned”. Start a lesson with the stage it "
                "belongs to, e.g. “Production: the printer needed files two weeks earlier”, and it is "
                "listed under that stage in the Lessons learned index. Each lesson is added to the "
                "title's record in Consonance when you save."
            ),
            title="How this page works",
        ),
        trusted(region_storage(FACTS_REGION, facts)) if facts is not None else None,
        heading(2, "What went well"),
        bullet_list([""]),
        heading(2, "What we would change"),
        bullet_list([""]),
        heading(2, "Lessons learned"),
        bullet_list([""]),
    )


def ensure_retrospective(tenant: Tenant, work_id: str) -> str | None:
    """Call when a title reaches Published: its retrospective page is made once (through the outbox).
    Returns the page id when it exists already; commits."""
    existing = pages_of(tenant, str(work_id)).get(roles.RETROSPECTIVE)
    if existing is not None and existing.page_id:
        return existing.page_id
    enqueue(tenant, "confluence", CREATE_KIND, {"work_id": str(work_id)}, dedupe_key=f"retrospective:{work_id}")
    db.session.commit()
    return None


@outbox_handler(CREATE_KIND)
def create_retrospective(tenant: Tenant, payload: dict) -> dict:
    work_id = str(payload["work_id"])
    pages = pages_of(tenant, work_id)
    if pages.get(roles.RETROSPECTIVE) is not None and pages[roles.RETROSPECTIVE].page_id:
        return {"page_id": pages[roles.RETROSPECTIVE].page_id, "existing": True}
    home = pages.get(roles.HOME)
    if home is None or not home.page_id:
        raise PermanentError(f"work {work_id} has no title home page to hold its retrospective")  # admin-facing
    client = gateways().confluence(tenant)
    space_id = home.space_id or client.get_page(home.page_id).space_id
    if not space_id:
        raise PermanentError(f"work {work_id}: Confluence names no space for the title home page")
    title = f"Retrospective — {home.title or 'a title'}"[:255]
    page = client.find_page_by_title(space_id, title)  # made before a crash: use it, never a twin
    if page is None:
        gateway = gateways().consonance(tenant)
        facts = facts_content(tenant, gateway.title(work_id), gateway.list_tasks(work_id), utcnow().date())
        page = client.create_page(space_id, title, retrospective_template(facts), parent_id=home.page_id)
        remember_own_write(tenant, page)
    client.add_labels(page.id, [LABEL])
    row_id, _ = insert_once(
        TitlePage,
        {
            "tenant_id": tenant.id,
            "work_id": work_id,
            "role": roles.RETROSPECTIVE,
            "page_id": page.id,
            "space_id": space_id,
            "title": title,
            "created_at": utcnow(),
        },
        ("tenant_id", "work_id", "role"),
    )
    db.session.get_one(TitlePage, row_id).page_id = page.id
    return {"page_id": page.id}


# ------------------------------------------------------------------ lessons
def process_retrospective(tenant: Tenant, page: Page, work_id: str) -> dict:
    """New lessons each owe one Consonance note; the index is refreshed when the lessons changed."""
    try:
        lessons = parse_lessons(page.body or "")
    except PageFormatError as exc:
        log.warning("retrospective %s unreadable: %s", page.id, exc)
        return {"lessons": 0, "unreadable": 1}
    new = 0
    for lesson in lessons:
        lesson_id, created = insert_once(
            Lesson,
            {
                "tenant_id": tenant.id,
                "page_id": page.id,
                "page_title": page.title[:255],
                "work_id": str(work_id),
                "identity": lesson.identity,
                "stage": lesson.stage[:100],
                "text": lesson.text,
                "created_at": utcnow(),
            },
            ("tenant_id", "page_id", "identity"),
        )
        if created:
            enqueue(
                tenant,
                "consonance",
                NOTE_KIND,
                {"lesson_id": lesson_id},
                dedupe_key=f"lesson:{page.id}:{lesson.identity}",
            )
            new += 1
    keep = [lesson.identity for lesson in lessons] or [""]
    removed = rows_changed(
        db.session.execute(
            sa.delete(Lesson)
            .where(Lesson.tenant_id == tenant.id, Lesson.page_id == page.id, Lesson.identity.not_in(keep))
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    queue_index(tenant)
    return {"lessons": len(lessons), "new_lessons": new, "removed_lessons": removed}


def lesson_ref(lesson: Lesson) -> str:
    return f"c4c-lesson:{lesson.page_id}:{lesson.identity}"


def page_url(tenant: Tenant, page_id: str) -> str:
    return f"{(tenant.site_url or '').rstrip('/')}/wiki/pages/viewpage.action?pageId={page_id}"


@outbox_handler(NOTE_KIND)
def send_lesson_note(tenant: Tenant, payload: dict) -> dict:
    lesson = db.session.get(Lesson, payload["lesson_id"])
    if lesson is None or lesson.tenant_id != tenant.id:
        return {"skipped": "the lesson was removed from the page before it was sent"}
    text_ = (
        f"Lesson learned ({lesson.stage}): {lesson.text}\n\n"
        f"From the retrospective “{lesson.page_title}”: {page_url(tenant, lesson.page_id)}"
    )
    note = gateways().consonance(tenant).add_note(lesson.work_id, text_, lesson_ref(lesson))
    return {"note_id": note.id}


# ------------------------------------------------------------------ the index page
def region_name(stage: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", stage.lower()).strip("-")[:40] or "x"
    return f"lessons-{slug}-{hashlib.sha256(stage.lower().encode()).hexdigest()[:6]}"


def _lessons_by_stage(tenant: Tenant) -> dict[str, list[Lesson]]:
    by_stage: dict[str, list[Lesson]] = {}
    for lesson in db.session.execute(tenant_query(Lesson, tenant).order_by(Lesson.created_at, Lesson.id)).scalars():
        by_stage.setdefault(lesson.stage, []).append(lesson)
    stages = sort_stage_names([s for s in by_stage if s != GENERAL]) + ([GENERAL] if GENERAL in by_stage else [])
    return {stage: by_stage[stage] for stage in stages}


def stage_content(lessons: list[Lesson], workflow_pages: Sequence[str] = ()) -> str:
    """The stage's lessons, each linked to its retrospective, then the workflow pages they should change."""
    items = [
        [text(lesson.text), text(" — "), page_link(lesson.page_title or "its retrospective")] for lesson in lessons
    ]
    parts = [bullet_list(items) if items else paragraph(emphasis("No lessons for this stage yet."))]
    if workflow_pages and items:
        links = []
        for number, title in enumerate(workflow_pages):
            links += ([text(", ")] if number else []) + [page_link(title)]
        parts.append(paragraph(strong("Change the workflow: "), *links))
    return document(*parts)


def workflow_pages(tenant: Tenant, client) -> list[str]:
    """The titles of the stage guide and the playbooks, where a lesson turns into a changed step."""
    settings = get_settings(tenant)
    titles = []
    for page_id in [settings.stage_guide_page_id, *settings.playbook_page_ids]:
        if not page_id:
            continue
        try:
            titles.append(client.get_page(str(page_id)).title)
        except ConfluenceError as exc:
            log.info("workflow page of tenant %s not readable for the lessons index: %s", tenant.id, exc)
    return list(dict.fromkeys(titles))


def queue_index(tenant: Tenant) -> None:
    state = [
        (stage, [(lesson.text, lesson.page_title) for lesson in lessons])
        for stage, lessons in _lessons_by_stage(tenant).items()
    ]
    digest = hashlib.sha256(json.dumps(state, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]
    enqueue(tenant, "confluence", INDEX_KIND, {}, dedupe_key=f"lessons-index:{digest}")
    db.session.commit()


@outbox_handler(INDEX_KIND)
def write_lessons_index(tenant: Tenant, payload: dict) -> dict:
    """One region per stage, each under its stage heading; stages without lessons keep an empty region."""
    client = gateways().confluence(tenant)
    page_id = lessons_index_page_id(tenant, client)
    workflow = workflow_pages(tenant, client)
    written = 0
    for stage, lessons in _lessons_by_stage(tenant).items():
        written += int(
            write_region(
                tenant,
                client,
                page_id,
                region_name(stage),
                stage_content(lessons, workflow),
                message=f"lessons learned: {stage}",
                heading=stage,
            )
        )
    return {"page_id": page_id, "regions_written": written}


def lessons_index_page_id(tenant: Tenant, client) -> str:
    """settings.lessons_index_page_id, else the page made before, else a new one under the page-set parent."""
    settings = get_settings(tenant)
    if settings.lessons_index_page_id:
        return str(settings.lessons_index_page_id)
    row = db.session.execute(
        tenant_query(EditorFlowPage, tenant).where(EditorFlowPage.work_id == "", EditorFlowPage.kind == INDEX_KIND_ROW)
    ).scalar_one_or_none()
    if row is not None and row.page_id:
        return row.page_id
    space = client.get_space_by_key(settings.page_set_space_key) if settings.page_set_space_key else None
    parent_id = settings.page_set_parent_id or None
    if space is None and parent_id:
        space_id = client.get_page(parent_id).space_id
    elif space is not None:
        space_id = space.id
    else:
        raise PermanentError("choose a Lessons learned page (or the space for title pages) in the app's configuration")
    page = client.find_page_by_title(space_id, INDEX_TITLE)
    if page is None:
        intro = document(
            paragraph(
                "Lessons from title retrospectives, by workflow stage. Kept up to date by "
                "Consonance for Confluence; write lessons on each title's retrospective page."
            )
        )
        page = client.create_page(space_id, INDEX_TITLE, intro, parent_id=parent_id)
        remember_own_write(tenant, page)
    row_id, _ = insert_once(
        EditorFlowPage,
        {"tenant_id": tenant.id, "work_id": "", "kind": INDEX_KIND_ROW, "page_id": page.id, "created_at": utcnow()},
        ("tenant_id", "work_id", "kind"),
    )
    db.session.get_one(EditorFlowPage, row_id).page_id = page.id
    db.session.flush()
    return page.id

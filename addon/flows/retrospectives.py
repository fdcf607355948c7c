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

import sqlalchemy as sa

from addon.confluence.models import Page
from addon.confluence.storage import bullet_list, document, emphasis, heading, info_panel, page_link, paragraph, text
from addon.extensions import db
from addon.flows.owned_pages import remember_own_write, write_region
from addon.flows.page_layout import GENERAL, PageFormatError, parse_lessons
from addon.flows.upstream_models import Lesson, UpstreamPage
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.jobs.unique import insert_once
from addon.platform.models import Tenant, tenant_query, utcnow
from addon.publishing.stages import sort_stage_names
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


def retrospective_template() -> str:
    """The page a published title gets; people fill it in (nothing in it is owned by the app)."""
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
def create_retrospective(tenant: Tenant, payload: dict, services) -> dict:
    work_id = str(payload["work_id"])
    pages = pages_of(tenant, work_id)
    if pages.get(roles.RETROSPECTIVE) is not None and pages[roles.RETROSPECTIVE].page_id:
        return {"page_id": pages[roles.RETROSPECTIVE].page_id, "existing": True}
    home = pages.get(roles.HOME)
    if home is None or not home.page_id:
        raise PermanentError(f"work {work_id} has no title home page to hold its retrospective")
    client = services.confluence(tenant)
    space_id = home.space_id or client.get_page(home.page_id).space_id
    title = f"Retrospective — {home.title or 'work ' + work_id}"[:255]
    page = client.find_page_by_title(space_id, title)  # made before a crash: use it, never a twin
    if page is None:
        page = client.create_page(space_id, title, retrospective_template(), parent_id=home.page_id)
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
    db.session.get(TitlePage, row_id).page_id = page.id
    return {"page_id": page.id}


# ------------------------------------------------------------------ lessons
def process_retrospective(tenant: Tenant, page: Page, work_id: str) -> dict:
    """New lessons each owe one Consonance note; the index is refreshed when the lessons changed."""
    try:
        lessons = parse_lessons(page.body)
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
    removed = db.session.execute(
        sa.delete(Lesson)
        .where(Lesson.tenant_id == tenant.id, Lesson.page_id == page.id, Lesson.identity.not_in(keep))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    queue_index(tenant)
    return {"lessons": len(lessons), "new_lessons": new, "removed_lessons": removed}


def lesson_ref(lesson: Lesson) -> str:
    return f"c4c-lesson:{lesson.page_id}:{lesson.identity}"


def page_url(tenant: Tenant, page_id: str) -> str:
    return f"{(tenant.site_url or '').rstrip('/')}/wiki/pages/viewpage.action?pageId={page_id}"


@outbox_handler(NOTE_KIND)
def send_lesson_note(tenant: Tenant, payload: dict, services) -> dict:
    lesson = db.session.get(Lesson, payload["lesson_id"])
    if lesson is None or lesson.tenant_id != tenant.id:
        return {"skipped": "the lesson was removed from the page before it was sent"}
    text_ = (
        f"Lesson learned ({lesson.stage}): {lesson.text}\n\n"
        f"From the retrospective “{lesson.page_title}”: {page_url(tenant, lesson.page_id)}"
    )
    note = services.consonance(tenant).add_note(lesson.work_id, text_, lesson_ref(lesson))
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


def stage_content(lessons: list[Lesson]) -> str:
    items = [[text(lesson.text), text(" — "), page_link(lesson.page_title or lesson.page_id)] for lesson in lessons]
    return document(bullet_list(items) if items else paragraph(emphasis("No lessons for this stage yet.")))


def queue_index(tenant: Tenant) -> None:
    state = [
        (stage, [(lesson.text, lesson.page_title) for lesson in lessons])
        for stage, lessons in _lessons_by_stage(tenant).items()
    ]
    digest = hashlib.sha256(json.dumps(state, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]
    enqueue(tenant, "confluence", INDEX_KIND, {}, dedupe_key=f"lessons-index:{digest}")
    db.session.commit()


@outbox_handler(INDEX_KIND)
def write_lessons_index(tenant: Tenant, payload: dict, services) -> dict:
    """One region per stage, each under its stage heading; stages without lessons keep an empty region."""
    client = services.confluence(tenant)
    page_id = lessons_index_page_id(tenant, client)
    written = 0
    for stage, lessons in _lessons_by_stage(tenant).items():
        written += int(
            write_region(
                tenant,
                client,
                page_id,
                region_name(stage),
                stage_content(lessons),
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
        tenant_query(UpstreamPage, tenant).where(UpstreamPage.work_id == "", UpstreamPage.kind == INDEX_KIND_ROW)
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
        UpstreamPage,
        {"tenant_id": tenant.id, "work_id": "", "kind": INDEX_KIND_ROW, "page_id": page.id, "created_at": utcnow()},
        ("tenant_id", "work_id", "kind"),
    )
    db.session.get(UpstreamPage, row_id).page_id = page.id
    db.session.flush()
    return page.id

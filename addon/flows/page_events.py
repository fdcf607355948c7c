"""Page created/updated events (Forge product events, Connect webhooks) → the flows that read the pages editors write.

The request only records the event (deduplicated by page id + version) and queues a job, so it
answers well inside Atlassian's 5 s. The job reads the page and routes it by what it is: a title's
Decision log, a playbook, the standards page, a retrospective, or a launch checklist the app made.
Versions our own writes produced are remembered (`owned_pages.remember_own_write`) and not handled again, and
the parsers never read the app's owned regions, so nothing the app writes echoes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from addon.confluence.errors import ConfluenceNotFound
from addon.confluence.models import Page
from addon.extensions import db
from addon.flows import decision_log, metadata_standards, playbook_gates, retrospectives
from addon.flows.editor_page_models import EditorFlowPage, EditorPageState
from addon.flows.owned_pages import (
    CHECKLIST,
    DECISION_LOG,
    PLAYBOOK,
    RETROSPECTIVE,
    STANDARDS,
    absorb_own_versions,
    page_state,
)
from addon.flows.page_layout import PageFormatError
from addon.gateways import NotConfigured, gateways
from addon.jobs.events import record_event_once
from addon.jobs.runner import submit
from addon.jobs.schedule import scheduled
from addon.platform.models import Tenant, tenant_query, utcnow
from addon.settings.service import get_settings
from addon.titles import models as roles
from addon.titles.models import TitlePage

log = logging.getLogger("addon.flows.page_events")

EVENT_SOURCE = "page"
HANDLE_JOB = "addon.flows.page_events.handle_page_event"
SWEEP_AFTER = timedelta(seconds=60)

PLAYBOOK_LABEL = "consonance-playbook"
STANDARDS_LABEL = "consonance-standards"
RETROSPECTIVE_LABEL = "consonance-retrospective"

PageHandler = Callable[[Tenant, Page, "str | None", "str | None"], dict]


@dataclass(frozen=True)
class PageEvent:
    page_id: str
    version: int
    actor: str | None = None


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def from_forge(body: dict) -> PageEvent | None:
    """`avi:confluence:created|updated:page`: `content{id, version{number}}` (or the older `page{id, version}`)."""
    if not isinstance(body, dict):
        return None
    content, page = _mapping(body.get("content")), _mapping(body.get("page"))
    if content.get("type") not in (None, "page"):
        return None
    version = content.get("version")
    number = version.get("number") if isinstance(version, dict) else version
    page_id = _positive_int(content.get("id") or page.get("id"))
    number = _positive_int(number if number is not None else page.get("version"))
    if page_id is None or number is None:
        return None
    actor = body.get("atlassianId")
    return PageEvent(str(page_id), number, actor if isinstance(actor, str) else None)


def from_connect(body: dict) -> PageEvent | None:
    """Connect `page_created` / `page_updated`: `{userAccountId, page{id, version}}`."""
    if not isinstance(body, dict) or not isinstance(body.get("page"), dict):
        return None
    page = body["page"]
    page_id, number = _positive_int(page.get("id")), _positive_int(page.get("version"))
    if page_id is None or number is None:
        return None
    actor = body.get("userAccountId") or page.get("lastModifierAccountId")
    return PageEvent(str(page_id), number, actor if isinstance(actor, str) else None)


# ------------------------------------------------------------------ in the request
def accept(tenant: Tenant, event: PageEvent | None) -> dict:
    """Record the event once and queue its job; no call to Confluence or Consonance. Commits."""
    if event is None:
        return {"status": "ignored", "reason": "not a page event with an id and a version"}
    if not record_event_once(tenant, EVENT_SOURCE, f"{event.page_id}:{event.version}"):
        db.session.commit()
        return {"status": "duplicate"}
    state = page_state(tenant, event.page_id)
    if event.version <= state.handled_version or event.version in (state.own_versions or []):
        db.session.commit()
        return {"status": "already handled"}
    db.session.execute(
        sa.update(EditorPageState)
        .where(EditorPageState.id == state.id, EditorPageState.pending_version < event.version)
        .values(pending_version=event.version, last_actor=event.actor, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    submit(
        HANDLE_JOB,
        args=(tenant.id, event.page_id, event.version, event.actor),
        tenant_id=tenant.id,
        kind="page_event",
        dedupe_key=f"page-event:{tenant.id}:{event.page_id}:{event.version}",
    )
    return {"status": "accepted"}


# ------------------------------------------------------------------ in the job
def handle_page_event(tenant_id: int, page_id: str, version: int | None = None, actor: str | None = None) -> dict:
    """Read the page and hand it to the flow it belongs to; `version=None` (the sweep) reads whatever is current."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or not tenant.enabled or tenant.uninstalled_at is not None:
        return {"skipped": "tenant not active"}
    state = page_state(tenant, page_id)
    if version is not None and (version <= state.handled_version or version in (state.own_versions or [])):
        db.session.commit()
        return {"skipped": "own write" if version in (state.own_versions or []) else "already handled"}
    db.session.commit()
    try:
        client = gateways().confluence(tenant)
        page = client.get_page(page_id)
    except NotConfigured as exc:
        log.info("page %s not handled: %s", page_id, exc)
        return {"skipped": "not configured"}
    except ConfluenceNotFound:
        _mark_handled(tenant, page_id, max(state.pending_version, version or 0))
        return {"skipped": "page gone"}
    kind, work_id = classify(tenant, client, page)
    counts: dict = {"kind": kind or "other", "page_version": page.version}
    if kind is not None:
        try:
            counts.update(route(tenant, kind, page, work_id, actor or state.last_actor) or {})
        except PageFormatError as exc:
            log.warning("page %s (%s) could not be read: %s", page_id, kind, exc)
            counts["unreadable"] = str(exc)[:200]
    _mark_handled(tenant, page_id, page.version or version or 0, kind)
    return counts


def _mark_handled(tenant: Tenant, page_id: str, version: int, kind: str | None = None) -> None:
    state = page_state(tenant, page_id)
    state.handled_version = max(state.handled_version, version)
    absorb_own_versions(state)
    if kind:
        state.kind = kind
    state.updated_at = utcnow()
    db.session.commit()


def classify(tenant: Tenant, client, page: Page) -> tuple[str | None, str | None]:
    """What the page is for these flows, and the title (work id) it belongs to when it has one."""
    link = (
        db.session.execute(
            tenant_query(TitlePage, tenant).where(
                TitlePage.page_id == page.id, TitlePage.role.in_((roles.DECISIONS, roles.RETROSPECTIVE))
            )
        )
        .scalars()
        .first()
    )
    if link is not None:
        return (DECISION_LOG if link.role == roles.DECISIONS else RETROSPECTIVE), link.work_id
    made = (
        db.session.execute(tenant_query(EditorFlowPage, tenant).where(EditorFlowPage.page_id == page.id))
        .scalars()
        .first()
    )
    if made is not None:
        return (CHECKLIST, made.work_id) if made.kind == CHECKLIST else (None, None)
    settings = get_settings(tenant)
    if page.id in {str(p) for p in settings.playbook_page_ids}:
        return PLAYBOOK, None
    if settings.standards_page_id and page.id == str(settings.standards_page_id):
        return STANDARDS, None
    labels = {label.name for label in client.get_labels(page.id)}
    if PLAYBOOK_LABEL in labels:
        return PLAYBOOK, None
    if STANDARDS_LABEL in labels:
        if settings.standards_page_id:
            log.info(
                "page %s is labelled %s but the standards page is %s; ignored",
                page.id,
                STANDARDS_LABEL,
                settings.standards_page_id,
            )
            return None, None
        return STANDARDS, None
    if RETROSPECTIVE_LABEL in labels and page.parent_id:
        home = (
            db.session.execute(
                tenant_query(TitlePage, tenant).where(
                    TitlePage.page_id == str(page.parent_id), TitlePage.role == roles.HOME
                )
            )
            .scalars()
            .first()
        )
        if home is not None:
            return RETROSPECTIVE, home.work_id
    return None, None


def _title_of(kind: str, work_id: str | None) -> str:
    """Decision logs, retrospectives and launch checklists are classified together with their title."""
    if work_id is None:
        raise ValueError(f"a {kind} page reached its handler without its title's work id")
    return work_id


def _decision_log(tenant: Tenant, page: Page, work_id: str | None, actor: str | None) -> dict:
    return decision_log.process_decision_log(tenant, page, _title_of(DECISION_LOG, work_id), actor)


def _playbook(tenant: Tenant, page: Page, work_id: str | None, actor: str | None) -> dict:
    return playbook_gates.process_playbook_page(tenant, page)


def _standards(tenant: Tenant, page: Page, work_id: str | None, actor: str | None) -> dict:
    return metadata_standards.process_standards_page(tenant, page)


def _retrospective(tenant: Tenant, page: Page, work_id: str | None, actor: str | None) -> dict:
    return retrospectives.process_retrospective(tenant, page, _title_of(RETROSPECTIVE, work_id))


def _checklist(tenant: Tenant, page: Page, work_id: str | None, actor: str | None) -> dict:
    return playbook_gates.checklist_changed(tenant, _title_of(CHECKLIST, work_id), page)


# Every kind of page editors write that the app reads, and the flow that handles it: the one list.
PAGE_HANDLERS: dict[str, PageHandler] = {
    DECISION_LOG: _decision_log,
    PLAYBOOK: _playbook,
    STANDARDS: _standards,
    RETROSPECTIVE: _retrospective,
    CHECKLIST: _checklist,
}


def route(tenant: Tenant, kind: str, page: Page, work_id: str | None, actor: str | None) -> dict:
    """Hand the page to the flow registered for its kind ({} for a kind no flow reads)."""
    handler = PAGE_HANDLERS.get(kind)
    return handler(tenant, page, work_id, actor) if handler is not None else {}


@scheduled("upstream.page_sweep", every=timedelta(minutes=2))
def sweep_unhandled_pages(tenant: Tenant) -> dict:
    """Pages announced but not handled a minute later (a lost job, a failed read) are read again."""
    cutoff = utcnow() - SWEEP_AFTER
    rows = (
        db.session.execute(
            tenant_query(EditorPageState, tenant)
            .where(
                EditorPageState.pending_version > EditorPageState.handled_version,
                EditorPageState.updated_at < cutoff,
            )
            .limit(200)
        )
        .scalars()
        .all()
    )
    for row in rows:
        submit(
            HANDLE_JOB,
            args=(tenant.id, row.page_id, None, None),
            tenant_id=tenant.id,
            kind="page_event",
            dedupe_key=f"page-sweep:{tenant.id}:{row.page_id}:{row.pending_version}",
        )
    return {"resubmitted": len(rows)}

"""F1: a newly acquired title gets its page set — a home page and the children the tenant chose —
labelled, linked to the work by a content property, and recorded as TitlePage rows.

Every page is looked for before it is made (TitlePage row, then the content property, then its title
in the space), and each row is committed as soon as its page exists, so a run killed between two
creations is completed by the next one without duplicates.
"""

from __future__ import annotations

import logging
import re

from addon.confluence.client import cql_quote
from addon.confluence.errors import ConfluenceError, ConfluenceNotFound
from addon.confluence.models import Page, Space
from addon.extensions import db
from addon.flows import page_templates as templates
from addon.flows import stage_status
from addon.flows.owned_pages import write_region
from addon.flows.sync_models import paged_work_ids
from addon.gateways import gateways
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.platform.models import Tenant, tenant_query, utcnow
from addon.publishing.domain import Title
from addon.settings.service import get_settings
from addon.titles import models as roles
from addon.titles.models import TitlePage

log = logging.getLogger("addon.flows.page_sets")

KIND = "confluence.page_set"
FACTS_KIND = "confluence.title_facts"
PROPERTY_KEY = "consonance-title"
TITLE_LABEL = "consonance-title"


def work_label(work_id: str) -> str:
    return "consonance-work-" + re.sub(r"[^a-z0-9]+", "-", str(work_id).lower())


def space_key_for_work(work_id: str) -> str:
    """The space a title gets in space-per-title mode: letters and digits only, stable per work."""
    return "CT" + re.sub(r"[^A-Za-z0-9]", "", str(work_id)).upper()


def enqueue_page_set(tenant: Tenant, work_id: str, dedupe_key: str) -> None:
    enqueue(tenant, "confluence", KIND, {"work_id": str(work_id)}, dedupe_key=dedupe_key)


def enqueue_for_managed_titles(tenant: Tenant, occasion: str) -> int:
    """A page set pass for every title owed one (idempotent: existing pages are found, not made
    again), e.g. once an admin chooses the space that titles acquired before had no pages in."""
    work_ids = paged_work_ids(tenant.id)
    for work_id in work_ids:
        enqueue_page_set(tenant, work_id, f"{occasion}:page_set:{work_id}")
    return len(work_ids)


class _PageSetWriter:
    """Finds or makes one title's pages; one instance per handler run."""

    def __init__(self, tenant: Tenant, client, title: Title):
        self.tenant, self.client, self.title = tenant, client, title
        self.work_id = title.work_id
        self.settings = get_settings(tenant)
        self.rows = {
            row.role: row
            for row in db.session.execute(
                tenant_query(TitlePage, tenant).where(TitlePage.work_id == self.work_id)
            ).scalars()
        }
        self.created: list[str] = []

    # -- where the set lives
    def space(self) -> Space:
        if self.settings.page_set_mode == "space_per_title":
            key = space_key_for_work(self.work_id)
            space = self.client.get_space_by_key(key)
            if space is None:
                space = self.client.create_space(
                    key, templates.home_title(self.title.title)[:200], f"Pages for Consonance work {self.work_id}"
                )
                log.info("created space %s for work %s", key, self.work_id)
            return space
        key = self.settings.page_set_space_key
        if not key:
            raise PermanentError("No space is chosen for title pages: choose one on the configuration page.")
        space = self.client.get_space_by_key(key)
        if space is None:
            raise PermanentError(f"The space {key} chosen for title pages does not exist (or the app cannot see it).")
        return space

    # -- find before create
    def _live(self, page_id: str | None) -> Page | None:
        if not page_id:
            return None
        try:
            page = self.client.get_page(page_id)
        except ConfluenceNotFound:
            return None
        return page if page.status == "current" else None

    def _by_property(self, role: str, space: Space) -> Page | None:
        cql = (
            f"type = page AND space = {cql_quote(space.key)} "
            f"AND content.property[{PROPERTY_KEY}].workId = {cql_quote(self.work_id)} "
            f"AND content.property[{PROPERTY_KEY}].role = {cql_quote(role)}"
        )
        try:
            for hit in self.client.search(cql):
                page = self._live(hit.content_id)
                if page is not None:
                    return page
        except ConfluenceError as exc:  # property not indexed on this site, or CQL refused: fall through
            log.info("property search unavailable (%s); looking by title", exc)
        return None

    def _is_ours(self, page: Page, role: str, parent_id: str | None) -> bool:
        prop = self.client.get_page_property(page.id, PROPERTY_KEY)
        if prop is not None:
            value = prop.value if isinstance(prop.value, dict) else {}
            return str(value.get("workId")) == self.work_id and value.get("role") == role
        # No property: we crashed between creating it and marking it, if it sits where we put it.
        return parent_id is None or page.parent_id == str(parent_id)

    def find_or_create(self, role: str, space: Space, parent_id: str | None, page_title: str, body: str) -> Page:
        row = self.rows.get(role)
        page = self._live(row.page_id if row else None) or self._by_property(role, space)
        for candidate_title in (page_title, f"{page_title} ({self.work_id})"):
            if page is not None:
                break
            found = self.client.find_page_by_title(space.id, candidate_title)
            if found is None:
                page = self.client.create_page(space.id, candidate_title, body, parent_id=parent_id)
                self.created.append(role)
            elif self._is_ours(found, role, parent_id):
                page = found
        if page is None:
            raise PermanentError(f"Both {page_title!r} and its work-id variant are taken by other pages")
        self._mark(page, role)
        self._record(role, page)
        return page

    def _mark(self, page: Page, role: str) -> None:
        self.client.set_page_property(page.id, PROPERTY_KEY, {"workId": self.work_id, "role": role})
        wanted = [TITLE_LABEL, work_label(self.work_id), f"consonance-{role}"]
        present = {label.name for label in self.client.get_labels(page.id)}
        missing = [name for name in wanted if name not in present]
        if missing:
            self.client.add_labels(page.id, missing)

    def _record(self, role: str, page: Page) -> None:
        row = self.rows.get(role)
        if row is None:
            row = TitlePage(tenant_id=self.tenant.id, work_id=self.work_id, role=role)
            db.session.add(row)
            self.rows[role] = row
        row.page_id, row.space_id, row.title = page.id, page.space_id, page.title[:255]
        db.session.commit()  # each page is remembered the moment it exists


def title_facts(title: Title) -> dict[str, dict]:
    """Per role, the owned regions filled from Consonance (region name -> inner content)."""
    return {
        roles.HOME: {templates.ABOUT_REGION: templates.about_region_inner(title)},
        roles.CONTACTS: {templates.CONTACTS_REGION: templates.contacts_region_inner(title)},
        roles.SCHEDULE: {templates.MILESTONES_REGION: templates.milestones_region_inner(title)},
    }


_REGION_HEADINGS = {
    templates.ABOUT_REGION: "About the book",
    templates.CONTACTS_REGION: "From Consonance",
    templates.MILESTONES_REGION: "Milestones",
}


def make_page_set(tenant: Tenant, client, title: Title) -> dict:
    """Find or create the title's home and chosen children; returns page ids per role and what was created.

    Pages that already existed get their Consonance facts (About the book, contacts, milestones) brought up
    to date in their owned regions; what people wrote around them is kept.
    """
    writer = _PageSetWriter(tenant, client, title)
    space = writer.space()
    parent = writer.settings.page_set_parent_id or space.homepage_id
    if writer.settings.page_set_mode == "space_per_title":
        parent = space.homepage_id
    stage = title.stage.name if title.stage else None
    facts = title_facts(title)
    home_body = templates.home_page(
        title.work_id,
        title.title,
        stage_status.status_inner_for(tenant, client, title.work_id, stage),
        facts[roles.HOME][templates.ABOUT_REGION],
    )
    home = writer.find_or_create(roles.HOME, space, parent, templates.home_title(title.title), home_body)
    stage_status.sync_stage_labels(client, home.id, stage)
    pages = {roles.HOME: home.id}
    today = utcnow().date()
    for name in writer.settings.page_set_children:
        role = templates.CHILD_ROLES[name]
        child = writer.find_or_create(
            role,
            space,
            home.id,
            templates.child_title(title.title, role),
            templates.child_page(title.work_id, title.title, role, facts.get(role), today),
        )
        pages[role] = child.id
    updated = _write_facts(tenant, client, pages, facts, created=set(writer.created))
    db.session.commit()
    return {"pages": pages, "created": writer.created, "facts_updated": updated}


def _write_facts(tenant: Tenant, client, pages: dict, facts: dict, created: set) -> list[str]:
    """Bring each page's Consonance regions up to date (no new version when nothing changed)."""
    updated = []
    for role, regions in facts.items():
        page_id = pages.get(role)
        if page_id is None or role in created:
            continue
        for region, inner in regions.items():
            if write_region(
                tenant,
                client,
                page_id,
                region,
                inner,
                message=f"{_REGION_HEADINGS[region].lower()} from Consonance",
                heading=_REGION_HEADINGS[region],
            ):
                updated.append(region)
    return updated


def enqueue_facts(tenant: Tenant, work_id: str, dedupe_key: str) -> None:
    """A tracked title's dates, people or details changed: its pages' Consonance regions are refreshed."""
    enqueue(tenant, "confluence", FACTS_KIND, {"work_id": str(work_id)}, dedupe_key=f"facts:{dedupe_key}")


@outbox_handler(KIND)
def create_page_set(tenant: Tenant, payload: dict) -> dict:
    work_id = str(payload["work_id"])
    title = gateways().consonance(tenant).title(work_id)
    if title is None:
        raise PermanentError(f"Consonance has no work {work_id}")
    return make_page_set(tenant, gateways().confluence(tenant), title)


@outbox_handler(FACTS_KIND)
def refresh_title_facts(tenant: Tenant, payload: dict) -> dict:
    """Rewrite the Consonance regions of the pages the title already has (never makes pages)."""
    work_id = str(payload["work_id"])
    pages = {
        row.role: row.page_id
        for row in db.session.execute(
            tenant_query(TitlePage, tenant).where(TitlePage.work_id == work_id, TitlePage.page_id.is_not(None))
        ).scalars()
    }
    if not pages:
        return {"pages": 0}
    title = gateways().consonance(tenant).title(work_id)
    if title is None:
        raise PermanentError(f"Consonance has no work {work_id}")
    updated = _write_facts(tenant, gateways().confluence(tenant), pages, title_facts(title), created=set())
    db.session.commit()
    return {"pages": len(pages), "facts_updated": updated}

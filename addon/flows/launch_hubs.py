"""F6: a marketing launch hub per season (or per title) whose owned table follows real production:
publication dates, format readiness, metadata completion and go/no-go for each title.

Marketing writes everything outside the table; a refresh only rewrites the table region, and an
unchanged table makes no new version. A season hub covers the season's whole forthcoming list.
"""

from __future__ import annotations

import logging
from datetime import date

import sqlalchemy as sa

from addon.confluence.errors import ConfluenceError, ConfluenceNotFound
from addon.confluence.models import Page
from addon.confluence.owned_regions import OwnedRegionError, find_region, insert_region_if_missing, replace_region
from addon.confluence.storage_parse import StorageParseError, find_tables
from addon.extensions import db
from addon.flows import hub_calendar
from addon.flows import page_templates as templates
from addon.flows.sync_models import SyncPage, TitleSnapshot
from addon.gateways import gateways
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler, waiting
from addon.platform.models import Tenant, tenant_query, utcnow
from addon.publishing.domain import work_url
from addon.publishing.readiness import ReadinessPolicy, assess_title
from addon.publishing.schedule import ReadinessSchedule, StageDeadlines, schedule_from_tables
from addon.settings.service import get_settings
from addon.standards.service import current_rule_set
from addon.titles import models as roles
from addon.titles.models import TitlePage

log = logging.getLogger("addon.flows.launch_hubs")

KIND = "confluence.launch_hub"
SYNC_KIND = "launch-hub"
PROPERTY_KEY = "consonance-launch-hub"
NO_SEASON = "No season"
PUBLISHED = "published"


def hub_key_for(mode: str, work_id: str, season: str | None) -> str:
    return str(work_id) if mode == "per_title" else (season or NO_SEASON)


def enqueue_refresh(tenant: Tenant, hub_key: str, dedupe_key: str) -> None:
    """Owe a refresh of the hub, unless one is still waiting: it reads the hub's titles when it runs, so it covers
    this cause too (a first sync and the next poll, or two polls before a drain, refresh a hub once)."""
    if waiting(tenant, KIND, {"hub": hub_key}) is None:
        enqueue(tenant, "confluence", KIND, {"hub": hub_key}, dedupe_key=dedupe_key)


def _members(tenant: Tenant, mode: str, hub_key: str) -> list[str]:
    """A season hub holds the season's whole forthcoming list (every title Consonance has that is not
    published yet) plus the managed titles that have just published; a title hub holds its one title."""
    if mode == "per_title":
        return [hub_key]
    season = None if hub_key == NO_SEASON else hub_key
    query = tenant_query(TitleSnapshot, tenant).where(
        sa.or_(TitleSnapshot.tracked.is_(True), sa.func.lower(sa.func.coalesce(TitleSnapshot.stage, "")) != PUBLISHED)
    )
    query = query.where(TitleSnapshot.season.is_(None) if season is None else TitleSnapshot.season == season)
    return [row.work_id for row in db.session.execute(query.order_by(TitleSnapshot.work_id)).scalars()]


def forthcoming_hub_keys(tenant: Tenant) -> list[str]:
    """The hubs the forthcoming list needs: one per season holding a title not yet published
    (per-title mode: one per managed title, so a site does not get a page for every title it has)."""
    mode = get_settings(tenant).launch_hub_mode
    if mode == "per_title":
        rows = db.session.execute(
            sa.select(TitleSnapshot.work_id).where(
                TitleSnapshot.tenant_id == tenant.id, TitleSnapshot.tracked.is_(True)
            )
        ).scalars()
        return sorted(set(rows))
    seasons = db.session.execute(
        sa.select(TitleSnapshot.season)
        .where(
            TitleSnapshot.tenant_id == tenant.id,
            sa.func.lower(sa.func.coalesce(TitleSnapshot.stage, "")) != PUBLISHED,
        )
        .distinct()
    ).scalars()
    return sorted({hub_key_for(mode, "", season) for season in seasons})


def enqueue_forthcoming_hubs(tenant: Tenant, dedupe_prefix: str) -> int:
    """Owe a refresh of every hub the forthcoming list needs (first sync, reconciliation); the caller commits."""
    keys = forthcoming_hub_keys(tenant)
    for key in keys:
        enqueue_refresh(tenant, key, f"{dedupe_prefix}:hub:{key[:150]}")
    log.info("owed %d launch hub refreshes for the forthcoming list", len(keys))
    return len(keys)


def _title_links(tenant: Tenant, work_ids: list[str]) -> dict[str, str]:
    """Where each title's name links: its title home page when it has a page set, else its Consonance record."""
    homes = dict(
        db.session.execute(
            sa.select(TitlePage.work_id, TitlePage.page_id).where(
                TitlePage.tenant_id == tenant.id,
                TitlePage.role == roles.HOME,
                TitlePage.work_id.in_(work_ids),
                TitlePage.page_id.is_not(None),
            )
        ).all()
    )
    host = get_settings(tenant).consonance_host
    links = {}
    for work_id in work_ids:
        if homes.get(work_id):
            links[work_id] = f"/wiki/pages/viewpage.action?pageId={homes[work_id]}"
        elif host:
            links[work_id] = work_url(host, work_id)
    return links


def launch_lines(
    tenant: Tenant, gateway, work_ids: list[str], today: date, client=None
) -> tuple[list[templates.LaunchLine], str]:
    rule_set = current_rule_set(tenant)
    policy = readiness_policy(tenant, client)
    links = _title_links(tenant, work_ids) if work_ids else {}
    lines, name = [], ""
    titles = gateway.titles(work_ids) if work_ids else {}  # one request per page of ids, not one per title
    for work_id in work_ids:
        title = titles.get(str(work_id))
        if title is None:
            continue
        name = title.title
        readiness = assess_title(title, today, rule_set=rule_set, policy=policy)
        lines.append(
            templates.LaunchLine(
                work_id=title.work_id,
                title=title.title,
                stage=title.stage.name if title.stage else "No stage",
                publication_date=readiness.publication_date,
                formats_ready=readiness.ready_formats,
                formats_total=len(readiness.formats),
                metadata_completion=readiness.metadata_completion,
                go=readiness.decision.go,
                headline=readiness.decision.headline,
                verdict=readiness.decision.verdict,
                why=readiness.decision.why,
                link=links.get(title.work_id),
            )
        )
    lines.sort(key=lambda line: (line.publication_date or date.max, line.title.lower(), line.work_id))
    return lines, name


def readiness_policy(tenant: Tenant, client=None) -> ReadinessPolicy:
    """The tenant's readiness policy: the checklist from the admin's stage guide page when it has one
    (read with `client`), and the stage deadlines the admin set, over the documented defaults."""
    settings = get_settings(tenant)
    schedule = None
    if client is not None and settings.stage_guide_page_id:
        try:
            schedule = schedule_from_tables(find_tables(client.get_page(settings.stage_guide_page_id).body or ""))
        except (ConfluenceError, StorageParseError) as exc:
            log.warning(
                "stage guide page %s unreadable (%s); default readiness schedule", settings.stage_guide_page_id, exc
            )
    return ReadinessPolicy(
        schedule=schedule or ReadinessSchedule(),
        stage_deadlines=StageDeadlines.from_mapping(settings.stage_deadline_weeks),
    )


def sync_page_location(tenant: Tenant, client, parent_setting: str, what: str) -> tuple[str, str | None]:
    """(space id, parent page id) for pages the flows keep (hubs, summaries): the parent page the admin
    chose in `parent_setting`, else the home of the title pages' space."""
    settings = get_settings(tenant)
    parent_id = getattr(settings, parent_setting)
    if parent_id:
        parent = client.get_page(parent_id)
        return parent.space_id, parent.id
    if settings.page_set_space_key:
        space = client.get_space_by_key(settings.page_set_space_key)
        if space is not None:
            return space.id, space.homepage_id
    raise PermanentError(f"Choose a parent page for {what} on the configuration page.")


def find_or_create_sync_page(
    tenant: Tenant,
    client,
    kind: str,
    key: str,
    property_key: str,
    page_title: str,
    body: str,
    space_id: str,
    parent_id: str | None,
) -> tuple[Page, SyncPage]:
    """A hub/summary page: our row, else a page of that title carrying our property (or none), else a new one."""
    row = db.session.execute(
        tenant_query(SyncPage, tenant).where(SyncPage.kind == kind, SyncPage.key == key)
    ).scalar_one_or_none()
    page = None
    if row is not None:
        try:
            page = client.get_page(row.page_id)
            page = page if page.status == "current" else None
        except ConfluenceNotFound:
            page = None
    if page is None:
        found = client.find_page_by_title(space_id, page_title)
        if found is not None:
            prop = client.get_page_property(found.id, property_key)
            if prop is not None and (prop.value or {}).get("key") != key:
                raise PermanentError(f"A page titled {page_title!r} belongs to something else")
            page = found
        else:
            page = client.create_page(space_id, page_title, body, parent_id=parent_id)
    client.set_page_property(page.id, property_key, {"key": key})
    if row is None:
        row = SyncPage(tenant_id=tenant.id, kind=kind, key=key, page_id=page.id)
        db.session.add(row)
    row.page_id, row.updated_at = page.id, utcnow()
    db.session.commit()
    return page, row


def rewrite_region(client, page_id: str, region: str, inner, message: str) -> bool:
    """Replace (or add at the top) one owned region; False when nothing changed or the markers are broken."""
    written = []

    def mutate(page):
        body = page.body or ""
        try:
            new = (
                replace_region(body, region, inner)
                if find_region(body, region) is not None
                else insert_region_if_missing(body, region, inner, at="start")
            )
        except OwnedRegionError as exc:
            log.warning("region %s on page %s is broken (%s); leaving it alone", region, page.id, exc)
            return None
        written.append(new != body)
        return new

    client.update_page_with_retry(page_id, mutate, message=message)
    return bool(written and written[-1])


@outbox_handler(KIND)
def refresh_launch_hub(tenant: Tenant, payload: dict) -> dict:
    hub_key = str(payload["hub"])
    mode = get_settings(tenant).launch_hub_mode
    members = _members(tenant, mode, hub_key)
    client = gateways().confluence(tenant)
    lines, single_name = launch_lines(tenant, gateways().consonance(tenant), members, date.today(), client)
    hub_name = (single_name or hub_key) if mode == "per_title" else hub_key
    inner = templates.launch_table_inner(hub_name, lines)
    space_id, parent_id = sync_page_location(tenant, client, "launch_hub_parent_id", "launch hubs")
    page, _ = find_or_create_sync_page(
        tenant,
        client,
        SYNC_KIND,
        hub_key,
        PROPERTY_KEY,
        templates.launch_hub_title(hub_name),
        templates.launch_hub_page(hub_name, inner),
        space_id,
        parent_id,
    )
    if mode == "per_title":
        _record_title_hub(tenant, hub_key, page)
    written = rewrite_region(client, page.id, templates.LAUNCH_TABLE_REGION, inner, "Launch table refreshed")
    calendar = hub_calendar.write_calendar(tenant, client, page.id, lines)
    return {"page_id": page.id, "titles": len(lines), "written": written, "calendar_written": calendar}


def _record_title_hub(tenant: Tenant, work_id: str, page: Page) -> None:
    exists = db.session.execute(
        sa.select(TitlePage.id).where(
            TitlePage.tenant_id == tenant.id, TitlePage.work_id == work_id, TitlePage.role == roles.LAUNCH_HUB
        )
    ).first()
    if not exists:
        db.session.add(
            TitlePage(
                tenant_id=tenant.id,
                work_id=work_id,
                role=roles.LAUNCH_HUB,
                page_id=page.id,
                space_id=page.space_id,
                title=page.title[:255],
            )
        )
        db.session.commit()
